/**
 * The way into the one posting pipeline for every use case: a command (or a list under one
 * Idempotency-Key) is decided by src/ledger against the rows src/db locked, written with its
 * idempotency record and audit row in the same transaction, and answered after the commit.
 * One implementation of Idempotency-Key for every movement of value: the key is claimed with
 * the rows' locks, and decideKey (src/ledger/batch.ts) replays, refuses or lets it through.
 */
import type { Command, HeldRequest, Idempotency, KeyDecision } from '../ledger/batch.js';
import type { Currency, Transfer, TransferResult } from '../ledger/model.js';
import { DomainError, assert } from '../ledger/errors.js';
import { failureError } from '../ledger/failures.js';
import { BatchItemError, executeKeyed, runCommands } from '../db/batch.js';
import type { CommandResult, Response } from '../db/batch.js';
import type { Queryable } from '../db/client.js';
import type { Actor, AuditInput, Services } from './context.js';

/** What a use case answers: a status and body, whether it was replayed, and what it posted. */
export interface Answer<T> {
  status: number;
  body: T;
  /** The recorded answer of an earlier request with the same key. */
  replayed: boolean;
  /** Codes of the transfers it made (for the metrics); none on a replay. */
  posted: string[];
}

/** What a posted command answers and what the audit log records of it. */
export interface Outcome<T> {
  status: number;
  body: T;
  audit?: AuditInput;
}

type Respond<T> = (transfer: Transfer, request: HeldRequest | undefined) => Outcome<T>;

function recorded<T>(actor: Actor, outcome: Outcome<T>): Response {
  return outcome.audit === undefined
    ? { status: outcome.status, body: outcome.body }
    : { status: outcome.status, body: outcome.body, audit: actor.record(outcome.audit) };
}

/** The key's own decision as the answer: the recorded response again, or a refusal. */
function keyAnswer<T>(decision: KeyDecision): Answer<T> {
  if (decision.kind === 'key_in_flight') {
    throw new DomainError('idempotency_key_in_flight', 'a request with this Idempotency-Key is still being processed');
  }
  if (decision.kind === 'key_reused') {
    throw new DomainError('idempotency_key_reused', 'this Idempotency-Key was used with another request');
  }
  return { status: decision.status, body: decision.body as T, replayed: true, posted: [] };
}

/** A command's result as an answer; a refusal as its domain error. */
function answerOf<T>(result: CommandResult, currency: Currency): Answer<T> {
  switch (result.kind) {
    case 'posted':
      assert(result.response !== undefined, 'a posted command has its response');
      return { status: result.response.status, body: result.response.body as T, replayed: false, posted: [result.transfer.code] };
    case 'failed':
      throw failureError(result.code, result.detail, currency.scale);
    default:
      return keyAnswer<T>(result);
  }
}

/**
 * Posts one command through the request batcher: combined with the concurrent ones of the
 * currency into one transaction, answered after it committed.
 */
export async function post<T>(
  services: Pick<Services, 'batcher'>, actor: Actor, currency: Currency, command: Command & { idempotency: Idempotency }, respond: Respond<T>,
): Promise<Answer<T>> {
  const result = await services.batcher.submit(currency.id, {
    ...command, respond: (transfer, request) => recorded(actor, respond(transfer, request)),
  });
  return answerOf<T>(result, currency);
}

/**
 * Posts one command inside the caller's transaction, for a use case that writes linked rows
 * with it (a cash-out and its payout). Same decision, same key handling as `post`.
 */
export async function postWithin<T>(
  tx: Queryable, actor: Actor, currency: Currency, command: Command, respond: Respond<T>,
): Promise<{ answer: Answer<T>; transfer?: Transfer }> {
  const { results } = await runCommands(tx, currency.id, [{
    ...command, respond: (transfer, request) => recorded(actor, respond(transfer, request)),
  }]);
  const [result] = results;
  assert(result !== undefined, 'one result per command');
  const answer = answerOf<T>(result, currency);
  return result.kind === 'posted' ? { answer, transfer: result.transfer } : { answer };
}

/**
 * Posts a list under one Idempotency-Key in its own transaction (a coordinator's batch).
 * Atomic: the first failure writes nothing and is thrown as BatchItemError.
 */
export async function postList<T>(
  services: Services, actor: Actor, currency: Currency, key: Idempotency, commands: Command[], atomic: boolean,
  respond: (results: TransferResult[]) => Outcome<T>,
): Promise<Answer<T>> {
  const result = await executeKeyed(services.sql, currency.id, key, commands, atomic, (results) => recorded(actor, respond(results)));
  if (result.kind !== 'done') return keyAnswer<T>(result);
  const posted = result.posted.map((t) => t.code);
  return { status: result.response.status, body: result.response.body as T, replayed: false, posted };
}

export { BatchItemError };
