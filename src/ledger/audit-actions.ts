/**
 * Every action the audit log records, written `<object>.<what happened>`. An audit record takes
 * only these (`AuditInput.action`, `AuditEntry.action`), so the compiler refuses an action that
 * is not listed here, and test/audit-labels.test.ts checks that each has its words in every
 * language of the console (`console.audit_actions` in web/src/i18n) and that each is written
 * somewhere in src/. Adding an action: add it here, then its words in nl, en and fr.
 */
export const audit_actions = [
  'account.create', 'account.update',
  'activity.create', 'activity.update',
  'auth.login', 'auth.login_failed', 'auth.logout',
  'card.block', 'card.unblock', 'card.unlock', 'card.locked', 'card.pin_failed', 'card.pin_set', 'card.reissue',
  'currency.create', 'currency.update',
  'device.pair', 'device.pair_failed', 'device.revoke',
  'gift.give',
  'helper.link', 'helper.unlink',
  'pairing_code.create',
  'payment.charge', 'payment.pay', 'payment.pay_for', 'payment.refund',
  'payment_request.create', 'payment_request.cancel',
  'payout.export',
  'retention.run',
  'redemption.request', 'redemption.approve', 'redemption.reject',
  'session.create', 'session.update', 'session.claim', 'session.award', 'session.close',
  'shop.create', 'shop.update',
  'transfer.create', 'transfer.batch', 'transfer.issue', 'transfer.reverse', 'transfer.post', 'transfer.void', 'transfer.expire',
  'user.create', 'user.update', 'user.password_change', 'user.password_change_failed', 'user.password_reset', 'user.sessions_revoke',
  'wallet.register', 'wallet.update', 'wallet.export', 'wallet.erase', 'wallet.login', 'wallet.logout', 'wallet.pin_change',
] as const;

export type AuditAction = (typeof audit_actions)[number];

/** What an audit record can be about (its `object.kind`); each is named in every language of the console too. */
export const audit_object_kinds = [
  'account', 'activity', 'card', 'currency', 'device', 'payment_request', 'payout_export', 'redemption', 'session', 'shop',
  'transfer', 'user', 'wallet',
] as const;

export type AuditObjectKind = (typeof audit_object_kinds)[number];
