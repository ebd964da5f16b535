/**
 * Access: who may act, and how they come to. Staff log in with email and password, a volunteer
 * opens a wallet with card + PIN (and a shop's tablet charges a card with it), a tablet pairs
 * with a coordinator's one-time code. Coordinators register volunteers, issue, block and
 * unlock cards, make pairing codes and unpair tablets.
 *
 * Every guess is counted before it is compared (Actor.attempt, and the card's own count in
 * PostgreSQL), the answer never tells which half of a card + PIN was wrong, and each action is
 * recorded in the audit log without its secret.
 */
import { randomBytes } from 'node:crypto';
import { DomainError, ValidationError, assert } from '../ledger/errors.js';
import { weakPassword, weakPasswordMessage, weakPin, weakPinMessage } from '../ledger/secrets.js';
import type { Account, Currency } from '../ledger/model.js';
import { cardCodeFromBytes, isCardCodeTypo, normalizeCardCode } from '../ledger/cards.js';
import { uuid_pattern } from '../ledger/ids.js';
import { formatPairingCode, normalizePairingCode, pairingCodeFromBytes } from '../ledger/pairing.js';
import { dummyHash, hashSecret, verifySecret } from '../security/passwords.js';
import { device_audience, signToken, staff_audience, wallet_audience } from '../security/tokens.js';
import { findCurrency, findCurrencyById } from '../db/ledger.js';
import { transaction } from '../db/client.js';
import {
  currentCard, findCard, findWallet, insertWallet, insertWalletSession, isLocked, reissueCard, revokeWalletSession,
  setCardBlocked, setWalletPin, settlePinAttempt, takePinAttempt, unlockCard, updateWalletProfile,
} from '../db/volunteers.js';
import type { WalletProfile } from '../db/volunteers.js';
import type { LockRule } from '../db/volunteers.js';
import type { Card, Wallet } from '../db/volunteers.js';
import {
  findUserByEmail, insertSession, insertUser, revokeSession, revokeUserSessions, setPassword, updateUser,
} from '../db/users.js';
import type { Role, User } from '../db/users.js';
import { findShop, insertPairingCode, pairDevice, revokeDevice } from '../db/shops.js';
import type { Device, Shop } from '../db/shops.js';
import type { Actor, Services } from './context.js';
import { recordAudit } from './context.js';
import { refuseErased } from './privacy.js';

/** A token handed out by a login or a pairing. */
export interface Issued {
  token: string;
  expires_at: Date;
}

const wrong_card_or_pin = 'the card or the PIN is wrong';

/** The answer to a wrong card or PIN: 401 when opening a wallet, 422 on a tablet that must stay signed in. */
export type WrongCardOrPin = 'unauthenticated' | 'invalid_card_or_pin';

/** A card that cannot be used, answered as a wrong one after the same work, so timing tells nothing. */
async function refuseUnusableCard(services: Services, actor: Actor, typed: string, code: string | undefined, card: Card | undefined, wrong: WrongCardOrPin): Promise<never> {
  await verifySecret('0000', await dummyHash(services.config.SCRYPT_COST_LOG2));
  await recordAudit(services, actor, {
    action: 'card.pin_failed', currency_id: card?.currency_id ?? null, object: { kind: 'card', id: code ?? typed },
    changes: { reason: card === undefined ? 'unknown card' : `card ${card.status}` },
  });
  throw new DomainError(wrong, wrong_card_or_pin);
}

/** The card lockout of these settings: how many wrong PINs lock, for how long, and when a lock holds. */
function lockRule(config: Services['config']): LockRule {
  return { failures_max: config.PIN_FAILURES_MAX, lock_s: config.PIN_LOCK_S, timed_locks_max: config.PIN_TIMED_LOCKS_MAX };
}

/** 423 card_locked, saying until when (or that a coordinator must unlock it) and when to try again. */
function cardLocked(card: Card, now_locked: boolean): DomainError {
  const until = card.locked_until;
  if (until === null) {
    return new DomainError('card_locked', 'too many wrong PINs: this card is locked until a coordinator unlocks it or sets a new PIN',
      { locked_until: null });
  }
  const retry_after_s = Math.max(1, Math.ceil((until.getTime() - Date.now()) / 1000));
  return new DomainError('card_locked', `too many wrong PINs: this card is ${now_locked ? 'now ' : ''}locked until ${until.toISOString()}, or until a coordinator unlocks it`,
    { locked_until: until.toISOString(), retry_after_s });
}

/** The card's row as it is now (after a refused attempt, to say how long its lock lasts). */
async function cardNow(services: Services, card: Card): Promise<Card> {
  return (await findCard(services.sql, card.code)) ?? card;
}

/**
 * Checks card + PIN with the lockout rules: every attempt is counted before the comparison,
 * the answer never tells whether the card or the PIN was wrong, a wrong PIN says how many tries
 * are left before a lock, and a locked card says until when. Locks escalate (lockRule).
 */
export async function checkCardPin(
  services: Services, actor: Actor, typed_card: string, pin: string, wrong: WrongCardOrPin = 'unauthenticated',
): Promise<{ card: Card; wallet: Wallet }> {
  const rule = lockRule(services.config);
  const code = normalizeCardCode(typed_card);
  const guess = actor.attempt('pin', code);
  const card = code === undefined ? undefined : await findCard(services.sql, code);
  if (card === undefined || card.status !== 'active') return refuseUnusableCard(services, actor, typed_card, code, card, wrong);
  const attempt = await takePinAttempt(services.sql, card, rule.failures_max);
  if (attempt === undefined) {
    // Not counted: locked, or the card was blocked or erased (its code gone) meanwhile.
    const now = await findCard(services.sql, card.code);
    if (now === undefined || now.status !== 'active') return refuseUnusableCard(services, actor, typed_card, code, now, wrong);
    await recordAudit(services, actor, { action: 'card.pin_failed', currency_id: card.currency_id, object: { kind: 'card', id: card.code }, changes: { reason: 'locked' } });
    throw cardLocked(await cardNow(services, card), false);
  }
  const wallet = await findWallet(services.sql, card.account_id);
  assert(wallet !== undefined, 'a card has its wallet');
  const right = await verifySecret(pin, wallet.pin_hash);
  const settled = await settlePinAttempt(services.sql, attempt, right, rule);
  if (settled === undefined) return refuseUnusableCard(services, actor, typed_card, code, undefined, wrong);
  if (!right) {
    // This attempt's own place in the round decides: concurrent guesses each learn their own.
    const locked = attempt.pin_failures >= rule.failures_max;
    await recordAudit(services, actor, {
      action: locked ? 'card.locked' : 'card.pin_failed', currency_id: card.currency_id, object: { kind: 'card', id: card.code },
      changes: { reason: 'wrong PIN', pin_failures: attempt.pin_failures, ...(locked ? { lock_count: settled.lock_count, locked_until: settled.locked_until?.toISOString() ?? null } : {}) },
    });
    if (locked) throw cardLocked(settled, true);
    // Card codes carry 80 random bits: saying that this one exists tells a guesser nothing useful.
    throw new DomainError(wrong, wrong_card_or_pin, { tries_left: rule.failures_max - attempt.pin_failures });
  }
  guess.release();
  return { card, wallet };
}

/** A PIN easy to guess is refused where it is chosen (registration, a coordinator's reset, a change). */
function refuseWeakPin(pin: string, path = 'pin'): void {
  const reason = weakPin(pin);
  if (reason !== undefined) throw new ValidationError([{ path, message: weakPinMessage(reason) }]);
}

/** The volunteer changes their PIN from the open wallet: the old one is checked like any PIN. */
export async function changeOwnPin(
  services: Services, actor: Actor, wallet: Wallet & { card_code: string }, old_pin: string, new_pin: string,
): Promise<void> {
  refuseWeakPin(new_pin, 'new_pin');
  const { card } = await checkCardPin(services, actor, wallet.card_code, old_pin, 'invalid_card_or_pin');
  await setWalletPin(services.sql, wallet, await hashSecret(new_pin, services.config.SCRYPT_COST_LOG2));
  await recordAudit(services, actor, { action: 'wallet.pin_change', currency_id: wallet.currency_id, object: { kind: 'card', id: card.code } });
}

/**
 * A coordinator sets a new PIN for a card's wallet (a forgotten PIN): typed by the volunteer on
 * the coordinator's screen. The card's lock and its escalation end; open sessions stay open.
 */
export async function setCardPin(services: Services, actor: Actor, card: Card, pin: string): Promise<Card> {
  refuseWeakPin(pin);
  if (card.status === 'replaced') throw new DomainError('card_replaced', 'this card was replaced by a new one; set the PIN on the current card');
  const wallet = await findWallet(services.sql, card.account_id);
  assert(wallet !== undefined, 'a card has its wallet');
  const updated = await setWalletPin(services.sql, wallet, await hashSecret(pin, services.config.SCRYPT_COST_LOG2)) ?? card;
  await recordAudit(services, actor, {
    action: 'card.pin_set', currency_id: card.currency_id, object: { kind: 'card', id: card.code },
    changes: { wallet: card.account_id, pin_failures: { from: card.pin_failures, to: updated.pin_failures }, lock_count: { from: card.lock_count, to: updated.lock_count } },
  });
  return updated;
}

/** Opens a wallet with card + PIN: a revocable session and its token. */
export async function openWallet(
  services: Services, actor: Actor, typed_card: string, pin: string,
): Promise<Issued & { wallet: Wallet; currency: Currency }> {
  const { card, wallet } = await checkCardPin(services, actor, typed_card, pin);
  const ttl_s = services.config.WALLET_TOKEN_TTL_S;
  // The session and its audit row in one transaction: an erasure of the wallet sees both or neither.
  const session_id = await transaction(services.sql, async (tx) => {
    const opened = await insertWalletSession(tx, card, new Date(Date.now() + ttl_s * 1000));
    if (opened !== undefined) {
      await recordAudit(services, actor, {
        action: 'wallet.login', currency_id: wallet.currency_id, actor: { kind: 'wallet', id: wallet.account_id },
        object: { kind: 'card', id: card.code },
      }, tx);
    }
    return opened;
  });
  if (session_id === undefined) return refuseUnusableCard(services, actor, typed_card, card.code, undefined, 'unauthenticated');
  const issued = await signToken(services.keys, wallet_audience, { sub: wallet.account_id, sid: session_id }, ttl_s);
  const currency = await findCurrencyById(services.sql, wallet.currency_id);
  assert(currency !== undefined, 'a wallet has its currency');
  return { ...issued, wallet, currency };
}

/** Ends a wallet session: its token stops working at once. */
export async function closeWallet(services: Services, actor: Actor, wallet: Wallet & { card_code: string }, session_id: string | undefined): Promise<void> {
  if (session_id !== undefined) await revokeWalletSession(services.sql, session_id);
  await recordAudit(services, actor, { action: 'wallet.logout', currency_id: wallet.currency_id, object: { kind: 'card', id: wallet.card_code } });
}

/** Logs a staff member in; an unknown email costs the same time as a wrong password. */
export async function logIn(services: Services, actor: Actor, email: string, password: string): Promise<Issued & { user: User }> {
  const attempt = actor.attempt('login', email);
  const user = await findUserByEmail(services.sql, email);
  const ok = await verifySecret(password, user?.password_hash ?? await dummyHash(services.config.SCRYPT_COST_LOG2));
  if (user === undefined || !ok || user.disabled_at !== null) {
    await recordAudit(services, actor, {
      action: 'auth.login_failed', currency_id: null, actor: { kind: 'anonymous', id: null },
      changes: { email, reason: user === undefined ? 'unknown email' : user.disabled_at !== null ? 'disabled' : 'wrong password' },
    });
    throw new DomainError('unauthenticated', 'email or password is wrong');
  }
  attempt.release();
  const ttl_s = services.config.STAFF_TOKEN_TTL_S;
  const session_id = await insertSession(services.sql, user.id, new Date(Date.now() + ttl_s * 1000));
  const issued = await signToken(services.keys, staff_audience, { sub: user.id, sid: session_id }, ttl_s);
  await recordAudit(services, actor, { action: 'auth.login', currency_id: null, actor: { kind: 'user', id: user.id }, object: { kind: 'user', id: user.id } });
  return { ...issued, user };
}

/** Ends a staff session: its token stops working at once. */
export async function logOut(services: Services, actor: Actor, session_id: string | undefined): Promise<void> {
  if (session_id !== undefined) await revokeSession(services.sql, session_id);
  await recordAudit(services, actor, { action: 'auth.logout', currency_id: null });
}

/** The ids of currencies named by code; an unknown code is refused at its place in the list. */
async function currencyIds(services: Pick<Services, 'sql'>, codes: string[]): Promise<number[]> {
  const ids: number[] = [];
  for (const [index, code] of codes.entries()) {
    const currency = await findCurrency(services.sql, code);
    if (currency === undefined) {
      throw new DomainError('validation_failed', `no currency ${code}`, { errors: [{ path: `currencies.${index}`, message: 'unknown currency' }] });
    }
    ids.push(currency.id);
  }
  return ids;
}

/** A password easy to guess is refused where it is chosen: at least 12 characters, not a common one. */
function refuseWeakPassword(password: string, email: string, path = 'password'): void {
  const reason = weakPassword(password, email);
  if (reason !== undefined) throw new ValidationError([{ path, message: weakPasswordMessage(reason) }]);
}

/** Creates a staff member (an admin's act) for the currencies named by code. */
export async function createUser(
  services: Services, actor: Actor, input: { email: string; password: string; role: Role; currencies: string[] },
): Promise<User> {
  refuseWeakPassword(input.password, input.email);
  const user = await insertUser(services.sql, {
    email: input.email, role: input.role, currency_ids: await currencyIds(services, input.currencies),
    password_hash: await hashSecret(input.password, services.config.SCRYPT_COST_LOG2),
  });
  await recordAudit(services, actor, {
    action: 'user.create', currency_id: null, object: { kind: 'user', id: user.id },
    changes: { email: user.email, role: user.role, currencies: user.currencies },
  });
  return user;
}

/** An admin disables or enables a staff member (disabling ends every session at once), or changes their role or currencies. */
export async function changeUser(
  services: Pick<Services, 'sql' | 'config'>, actor: Actor, user: User, input: { disabled?: boolean | undefined; role?: Role | undefined; currencies?: string[] | undefined },
): Promise<User> {
  if (Object.values(input).every((v) => v === undefined)) throw new ValidationError([{ path: '', message: 'nothing to change' }]);
  const updated = await updateUser(services.sql, user, {
    disabled: input.disabled, role: input.role,
    currency_ids: input.currencies === undefined ? undefined : await currencyIds(services, input.currencies),
  });
  await recordAudit(services, actor, {
    action: 'user.update', currency_id: null, object: { kind: 'user', id: user.id },
    changes: {
      ...(input.disabled === undefined ? {} : { disabled: { from: user.disabled_at !== null, to: updated.disabled_at !== null } }),
      ...(input.role === undefined ? {} : { role: { from: user.role, to: updated.role } }),
      ...(input.currencies === undefined ? {} : { currencies: { from: user.currencies, to: updated.currencies } }),
    },
  });
  return updated;
}

/** An admin ends every session of a staff member at once (a lost laptop). */
export async function endUserSessions(services: Services, actor: Actor, user: User): Promise<number> {
  const ended = await revokeUserSessions(services.sql, user.id);
  await recordAudit(services, actor, { action: 'user.sessions_revoke', currency_id: null, object: { kind: 'user', id: user.id }, changes: { sessions: ended } });
  return ended;
}

/** An admin sets a new password for a staff member; every session of theirs ends. */
export async function resetPassword(services: Pick<Services, 'sql' | 'config'>, actor: Actor, user: User, password: string): Promise<void> {
  refuseWeakPassword(password, user.email);
  await setPassword(services.sql, user.id, await hashSecret(password, services.config.SCRYPT_COST_LOG2));
  await recordAudit(services, actor, { action: 'user.password_reset', currency_id: null, object: { kind: 'user', id: user.id } });
}

/** A staff member changes their own password (the old one counts as a login attempt); their other sessions end. */
export async function changeOwnPassword(
  services: Services, actor: Actor, user: User, session_id: string | undefined, old_password: string, new_password: string,
): Promise<void> {
  const attempt = actor.attempt('login', user.email);
  const current = await findUserByEmail(services.sql, user.email);
  if (current === undefined || !(await verifySecret(old_password, current.password_hash))) {
    await recordAudit(services, actor, { action: 'user.password_change_failed', currency_id: null, object: { kind: 'user', id: user.id } });
    throw new DomainError('wrong_password', 'the current password is wrong');
  }
  attempt.release();
  refuseWeakPassword(new_password, user.email, 'new_password');
  if (old_password === new_password) throw new ValidationError([{ path: 'new_password', message: 'choose a password other than the current one' }]);
  await setPassword(services.sql, user.id, await hashSecret(new_password, services.config.SCRYPT_COST_LOG2), session_id);
  await recordAudit(services, actor, { action: 'user.password_change', currency_id: null, object: { kind: 'user', id: user.id } });
}

// Volunteers' wallets and cards --------------------------------------------------------------

function newCardCode(): string {
  return cardCodeFromBytes(randomBytes(10));
}

/** Registers a volunteer: a wallet, its PIN and a first card. */
export async function registerVolunteer(
  services: Services, actor: Actor, currency: Currency, input: { display_name: string; pin: string; language: string },
): Promise<{ account: Account; wallet: Wallet; card: Card }> {
  refuseWeakPin(input.pin);
  const registered = await insertWallet(services.sql, currency, {
    display_name: input.display_name, language: input.language,
    pin_hash: await hashSecret(input.pin, services.config.SCRYPT_COST_LOG2), card_code: newCardCode(),
  });
  await recordAudit(services, actor, {
    action: 'wallet.register', currency_id: currency.id, object: { kind: 'wallet', id: registered.account.id },
    changes: { display_name: registered.wallet.display_name, language: input.language, card: registered.card.code },
  });
  return registered;
}

/** A new card for a lost one: the old card and its sessions stop working at once. */
export async function replaceCard(services: Services, actor: Actor, wallet: Wallet): Promise<Card> {
  refuseErased(wallet);
  const card = await reissueCard(services.sql, wallet, newCardCode());
  await recordAudit(services, actor, { action: 'card.reissue', currency_id: wallet.currency_id, object: { kind: 'wallet', id: wallet.account_id }, changes: { card: card.code } });
  return card;
}

export type CardAction = 'block' | 'unblock' | 'unlock';

/** Blocks a card (it and its sessions stop at once), unblocks it, or clears a PIN lockout (and a block). */
export async function changeCard(services: Services, actor: Actor, card: Card, action: CardAction): Promise<Card> {
  if (action === 'unblock' && card.status === 'replaced') {
    throw new DomainError('card_replaced', 'this card was replaced by a new one and cannot be used again');
  }
  let updated = card;
  if (action === 'block') updated = await setCardBlocked(services.sql, card, true);
  if (action === 'unlock') updated = await unlockCard(services.sql, card);
  if (action !== 'block' && updated.status === 'blocked') updated = await setCardBlocked(services.sql, updated, false);
  await recordAudit(services, actor, {
    action: `card.${action}`, currency_id: card.currency_id, object: { kind: 'card', id: card.code },
    changes: { wallet: card.account_id, status: { from: card.status, to: updated.status }, pin_failures: { from: card.pin_failures, to: updated.pin_failures } },
  });
  return updated;
}

/** 422 card_code_typo: the check symbol says one character of a typed card code is wrong. */
export function cardCodeTypo(): DomainError {
  return new DomainError('card_code_typo', 'check the card code: one of its characters is wrong');
}

/**
 * A coordinator changes what is known of a volunteer: the display name (also the account's),
 * the full name, language, phone, email and a note — the last four for the coordinator's eyes
 * only. The audit log names the fields that changed, with the new display name and language;
 * never the contact details or the note themselves.
 */
export async function editVolunteer(services: Services, actor: Actor, wallet: Wallet, changes: WalletProfile): Promise<Wallet> {
  const changed = Object.entries(changes).filter(([field, value]) => value !== undefined && value !== wallet[field as keyof WalletProfile]).map(([field]) => field);
  if (Object.values(changes).every((v) => v === undefined)) throw new ValidationError([{ path: '', message: 'nothing to change' }]);
  refuseErased(wallet);
  const updated = await updateWalletProfile(services.sql, wallet, changes);
  await recordAudit(services, actor, {
    action: 'wallet.update', currency_id: wallet.currency_id, object: { kind: 'wallet', id: wallet.account_id },
    changes: {
      fields: changed,
      ...(changed.includes('display_name') ? { display_name: { from: wallet.display_name, to: updated.display_name } } : {}),
      ...(changed.includes('language') ? { language: { from: wallet.language, to: updated.language } } : {}),
    },
  });
  return updated;
}

/** The wallet of a scanned card that may be rewarded now in `currency` (event mode). */
export async function walletOfScannedCard(services: Services, currency: Currency, typed: string): Promise<{ card: Card; wallet: Wallet }> {
  if (isCardCodeTypo(typed)) throw cardCodeTypo();
  const code = normalizeCardCode(typed);
  const card = code === undefined ? undefined : await findCard(services.sql, code);
  if (card === undefined) throw new DomainError('not_found', 'no such card: scan it again or type its code');
  if (card.currency_id !== currency.id) throw new DomainError('wrong_currency', `this card is not a ${currency.name} card`);
  if (card.status !== 'active') throw new DomainError('card_replaced', 'this card is blocked or was replaced; use the volunteer\'s current card');
  if (isLocked(card, services.config.PIN_FAILURES_MAX)) {
    throw new DomainError('card_locked', 'this card is locked after too many wrong PINs; unlock it first');
  }
  const wallet = await findWallet(services.sql, card.account_id);
  assert(wallet !== undefined, 'a card has its wallet');
  return { card, wallet };
}

/** The current cards of the named wallets of `currency`, for a printed sheet (a wallet without one is left out). */
export async function cardsToPrint(services: Services, currency: Currency, wallet_ids: string[]): Promise<{ wallet: Wallet; card: Card }[]> {
  const cards = [];
  for (const id of wallet_ids) {
    const wallet = uuid_pattern.test(id) ? await findWallet(services.sql, id) : undefined;
    if (wallet === undefined || wallet.currency_id !== currency.id) throw new DomainError('not_found', `no wallet ${id} in ${currency.code}`);
    const card = await currentCard(services.sql, wallet);
    if (card !== undefined) cards.push({ wallet, card });
  }
  return cards;
}

// Shops' tablets ---------------------------------------------------------------------------

/** A single-use code that pairs a tablet with the shop (a new shop's first one is recorded with the shop). */
export async function makePairingCode(services: Services, actor: Actor, shop: Shop): Promise<{ pairing_code: string; expires_at: Date }> {
  const code = pairingCodeFromBytes(randomBytes(8));
  const expires_at = new Date(Date.now() + services.config.PAIRING_CODE_TTL_S * 1000);
  await insertPairingCode(services.sql, shop, code, expires_at, actor.label);
  return { pairing_code: formatPairingCode(code), expires_at };
}

/** A code for one more tablet of the shop; the code itself is a secret until used, so only its expiry is recorded. */
export async function newPairingCode(services: Services, actor: Actor, shop: Shop): Promise<{ pairing_code: string; expires_at: Date }> {
  const { pairing_code, expires_at } = await makePairingCode(services, actor, shop);
  await recordAudit(services, actor, {
    action: 'pairing_code.create', currency_id: shop.currency_id, object: { kind: 'shop', id: shop.account_id },
    changes: { expires_at: expires_at.toISOString() },
  });
  return { pairing_code, expires_at };
}

/** Pairs a tablet with a coordinator's one-time code: the device and its token. */
export async function pairTablet(
  services: Services, actor: Actor, typed_code: string, device_name: string,
): Promise<Issued & { device: Device; shop: Shop; currency: Currency }> {
  const code = normalizePairingCode(typed_code);
  const attempt = actor.attempt('pairing', undefined);
  const device = code === undefined ? undefined : await pairDevice(services.sql, code, device_name);
  if (device === undefined) {
    await recordAudit(services, actor, { action: 'device.pair_failed', currency_id: null, changes: { device_name } });
    throw new DomainError('unauthenticated', 'this pairing code is wrong, used or expired; ask the coordinator for a new one');
  }
  attempt.release();
  const shop = await findShop(services.sql, device.shop_account_id);
  const currency = await findCurrencyById(services.sql, device.currency_id);
  assert(shop !== undefined && currency !== undefined, 'a device has its shop and currency');
  const issued = await signToken(services.keys, device_audience, { sub: device.id, sid: device.id }, services.config.DEVICE_TOKEN_TTL_S);
  await recordAudit(services, actor, {
    action: 'device.pair', currency_id: device.currency_id, actor: { kind: 'device', id: device.id },
    object: { kind: 'shop', id: shop.account_id }, changes: { device: device.id, name: device.name },
  });
  return { ...issued, device, shop, currency };
}

/** Unpairs a tablet of the shop, by a coordinator or by the tablet itself: its token stops at once. */
export async function unpairTablet(services: Services, actor: Actor, shop: Shop, device_id: string, by: 'coordinator' | 'itself'): Promise<void> {
  const revoked = uuid_pattern.test(device_id) && await revokeDevice(services.sql, shop, device_id);
  if (!revoked) throw new DomainError('not_found', `no paired device ${device_id} of this shop`);
  await recordAudit(services, actor, {
    action: 'device.revoke', currency_id: shop.currency_id, object: { kind: 'device', id: device_id },
    changes: { shop: shop.account_id, ...(by === 'itself' ? { by } : {}) },
  });
}
