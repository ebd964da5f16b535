/**
 * One load-generating thread of bench/run.ts (plain JavaScript: worker threads do not go
 * through tsx). It keeps `connections` keep-alive HTTP/1.1 connections open with an undici Pool
 * (no pipelining) and sends its share of the jobs:
 *
 * - closed loop: `connections` virtual clients, each sending its next request as soon as the
 *   previous answer has been read, until the deadline or the jobs run out;
 * - open loop: job k is due at start + k / rate, whether or not earlier answers came back, and
 *   its latency counts from when it was due (no coordinated omission); requests beyond the open
 *   connections wait in the pool's queue, and that wait is part of their latency.
 *
 * workerData: { origin, connections, method, count, offset, stride, paths[] (one for every job,
 *   or one per job), tokens[] | null, token_idx (Int32Array) | null, bodies[] | null,
 *   body_idx (Int32Array) | null, idempotency, expect_status, mode, rate_per_s,
 *   collect (dotted JSON paths) | null }. This thread's job k is job offset + k * stride of the
 *   run; without token_idx / body_idx it uses tokens / bodies round robin by that number.
 * Then the parent posts { start_at, deadline_at } (epoch ms) once every worker is ready.
 * Answers with { issued, errors, status_counts, error_samples, latency_ms, finished_at, ok,
 *   collected } — latency_ms / finished_at / ok are indexed by job, for the first `issued` jobs.
 */
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';

const d = workerData;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

const pool = new Pool(d.origin, {
  connections: d.connections, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000,
  headersTimeout: 120_000, bodyTimeout: 120_000,
});
const n = d.count;
const latency_ms = new Float64Array(n);
const finished_at = new Float64Array(n);
const ok = new Uint8Array(n);
const collected = d.collect === null ? null : new Array(n);
const status_counts = {};
const error_samples = [];
let errors = 0;
let next = 0;

function pick(value, dotted) {
  let v = value;
  for (const key of dotted.split('.')) v = v?.[key];
  return v;
}

async function one(i, due_at) {
  const g = d.offset + i * d.stride;
  const headers = {};
  if (d.tokens !== null) headers.authorization = `Bearer ${d.tokens[d.token_idx === null ? g % d.tokens.length : d.token_idx[i]]}`;
  if (d.idempotency) headers['idempotency-key'] = randomUUID();
  let body;
  if (d.bodies !== null) {
    body = d.bodies[d.body_idx === null ? g % d.bodies.length : d.body_idx[i]];
    headers['content-type'] = 'application/json';
  }
  const started = due_at ?? now();
  let status = 0;
  let text = '';
  try {
    const response = await pool.request({ method: d.method, path: d.paths.length === 1 ? d.paths[0] : d.paths[i], headers, body });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    text = String(error?.message ?? error);
  }
  const ended = now();
  latency_ms[i] = ended - started;
  finished_at[i] = ended;
  status_counts[status] = (status_counts[status] ?? 0) + 1;
  if (status === d.expect_status) {
    ok[i] = 1;
    if (collected !== null) {
      const json = JSON.parse(text);
      collected[i] = d.collect.map((p) => pick(json, p));
    }
  } else {
    errors += 1;
    if (error_samples.length < 5) error_samples.push({ job: i, status, body: text.slice(0, 500) });
  }
}

async function closedLoop(deadline_at) {
  const client = async () => {
    while (next < n && now() < deadline_at) {
      const i = next;
      next += 1;
      await one(i, undefined);
    }
  };
  await Promise.all(Array.from({ length: d.connections }, client));
}

async function openLoop(start_at, deadline_at) {
  const interval_ms = 1000 / d.rate_per_s;
  const in_flight = [];
  for (;;) {
    const due = start_at + next * interval_ms;
    if (next >= n || due >= deadline_at) break;
    const t = now();
    if (due > t) await sleep(due - t);
    const t2 = now();
    while (next < n) {
      const due_k = start_at + next * interval_ms;
      if (due_k > t2 || due_k >= deadline_at) break;
      in_flight.push(one(next, due_k));
      next += 1;
    }
  }
  await Promise.all(in_flight);
}

parentPort.once('message', async ({ start_at, deadline_at }) => {
  await sleep(start_at - now());
  if (d.mode === 'open') await openLoop(start_at, deadline_at);
  else await closedLoop(deadline_at);
  await pool.close();
  const issued = next;
  const result = {
    issued, errors, status_counts, error_samples,
    latency_ms: latency_ms.slice(0, issued), finished_at: finished_at.slice(0, issued), ok: ok.slice(0, issued),
    collected: collected === null ? null : collected.slice(0, issued),
  };
  parentPort.postMessage(result, [result.latency_ms.buffer, result.finished_at.buffer, result.ok.buffer]);
});
// Every connection is opened before the window, as a pool of clients that has been running has
// them: a run measures the service at work, not its first milliseconds spent accepting 64 new
// connections (in the open-loop run at half rate, the first second then held most of the run's
// slowest 1 %).
await Promise.all(Array.from({ length: d.connections }, async () => {
  const { body } = await pool.request({ path: '/livez', method: 'GET' });
  await body.dump();
}));
parentPort.postMessage('ready');
