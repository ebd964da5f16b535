/**
 * Expected failures of the domain, each with a stable snake_case code. The HTTP layer maps
 * them to problem+json with the status below; nothing here knows about HTTP itself.
 */
export const error_status = {
  validation_failed: 422,
  malformed_json: 400,
  not_found: 404,
  forbidden: 403,
  unauthenticated: 401,
  idempotency_key_missing: 400,
  idempotency_key_invalid: 400,
  idempotency_key_reused: 422,
  idempotency_key_in_flight: 409,
  account_not_found: 422,
  transfer_not_found: 404,
  currency_not_found: 404,
  currency_exists: 409,
  email_exists: 409,
  insufficient_funds: 422,
  balance_max_exceeded: 422,
  account_frozen: 422,
  account_closed: 422,
  same_account: 422,
  cross_currency: 422,
  amount_too_large: 422,
  amount_exceeds_pending: 422,
  not_pending: 422,
  not_reversible: 422,
  invalid_transfer: 422,
  already_exists: 409,
  already_reversed: 409,
  already_resolved: 409,
  conflict: 409,
  batch_item_failed: 422,
  card_locked: 423,
  invalid_card_or_pin: 422,
  rate_limited: 429,
  card_replaced: 409,
  already_claimed: 409,
  session_full: 409,
  expired: 409,
  volunteer_cap_exceeded: 422,
  invalid_token: 422,
  wrong_currency: 422,
  already_paid: 409,
  cancelled: 409,
  refund_exceeds_payment: 422,
  not_refundable: 422,
  nothing_to_export: 409,
  iban_missing: 422,
  payer_missing: 422,
  already_refunded: 409,
  payout_exported: 409,
  code_not_allowed: 422,
  reason_required: 422,
  account_not_empty: 422,
  session_closed: 409,
  activity_inactive: 409,
  last_admin: 409,
  wrong_password: 422,
  card_code_typo: 422,
  reversal_exceeds_left: 422,
  already_erased: 409,
  gifts_disabled: 422,
  gift_limit_exceeded: 422,
  receive_code_unknown: 422,
  helper_limit_exceeded: 422,
} as const;

export type ErrorCode = keyof typeof error_status;

export interface FieldError {
  path: string;
  message: string;
}

/** An expected, client-caused failure. */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly extra: Record<string, unknown>;

  constructor(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'DomainError';
    this.code = code;
    this.extra = extra;
  }

  get status(): number {
    return error_status[this.code];
  }
}

/** Input that does not have the shape or range a request needs. */
export class ValidationError extends DomainError {
  readonly errors: FieldError[];

  constructor(errors: FieldError[]) {
    super('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
    this.errors = errors;
  }
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(error_status, code);
}

/** A broken invariant: a bug, never a client's fault. Fails loudly. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new Error(`assertion failed: ${message}`);
  }
}
