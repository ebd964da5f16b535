/** Issue #3: a PIN lockout ends by itself after PIN_LOCK_S (here 1 s), and the count starts afresh. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import { createCurrency, expectProblem } from './support/http-fixtures.js';
import { registerVolunteer, walletSession } from './support/volunteer-fixtures.js';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ PIN_LOCK_S: '1' });
  await createCurrency(t, 'TOR', 0);
});

afterAll(async () => {
  await t?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('a lock expires by itself: the right PIN works again, and a wrong one after the lock counts from 1', async () => {
  const v = await registerVolunteer(t, 'TOR', { pin: '1729' });
  for (let i = 0; i < 4; i++) expectProblem(await walletSession(t, v.code, '9999'), 401, 'unauthenticated');
  expectProblem(await walletSession(t, v.code, '9999'), 423, 'card_locked');
  expectProblem(await walletSession(t, v.code, '1729'), 423, 'card_locked');

  await sleep(1200);
  // After the lock a wrong PIN is just one wrong PIN again, not a new lock.
  expectProblem(await walletSession(t, v.code, '9999'), 401, 'unauthenticated');
  const [row] = await t.sql<{ pin_failures: number; locked_until: Date | null }[]>`SELECT pin_failures, locked_until FROM cards WHERE code = ${v.code}`;
  expect(row).toEqual({ pin_failures: 1, locked_until: null });
  const opened = await walletSession(t, v.code, '1729');
  expect(opened.status, JSON.stringify(opened.body)).toBe(200);
});

it('a lock that expired lets the right PIN in straight away', async () => {
  const v = await registerVolunteer(t, 'TOR', { pin: '3748' });
  const replies = await Promise.all(Array.from({ length: 8 }, () => walletSession(t, v.code, '0000')));
  expect(replies.filter((r) => r.status === 401)).toHaveLength(4);
  expectProblem(await walletSession(t, v.code, '3748'), 423, 'card_locked');
  await sleep(1200);
  expect((await walletSession(t, v.code, '3748')).status).toBe(200);
  const [row] = await t.sql<{ pin_failures: number }[]>`SELECT pin_failures FROM cards WHERE code = ${v.code}`;
  expect(row?.pin_failures).toBe(0);
});
