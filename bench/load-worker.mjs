/**
 * One load-generating thread of bench/run.ts (plain JavaScript: worker threads do not go
 * through tsx). It keeps `connections` keep-alive HTTP/1.1 connections open (one request at a
 * time on each, no pipelining; written and read with node:net, below) and sends its share of the jobs:
 *
 * - closed loop: `connections` virtual clients, each sending its next request as soon as the
 *   previous answer has been read, until the deadline or the jobs run out;
 * - open loop: job k is due at start + k / rate, whether or not earlier answers came back, and
 *   its latency counts from when it was due (no coordinated omission); requests beyond the open
 *   connections wait in a queue for one, and that wait is part of their latency.
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
import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';

const d = workerData;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const { hostname, port } = new URL(d.origin);
const head_end = Buffer.from('\r\n\r\n');

/**
 * One keep-alive HTTP/1.1 connection, one request at a time: the request's bytes written at once,
 * the answer read as its status line, headers and a body of Content-Length bytes (or chunks).
 * No HTTP library: its CPU per request competed with the service for the machine's cores.
 */
class Connection {
  constructor() {
    this.waiting = null;
    this.received = [];
    this.socket = net.connect({ host: hostname, port: Number(port) });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk) => this.data(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(new Error('connection closed')));
  }

  get usable() {
    return !this.socket.destroyed;
  }

  send(bytes) {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.received = [];
      this.socket.write(bytes);
    });
  }

  fail(error) {
    this.socket.destroy();
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.({ status: 0, text: String(error?.message ?? error) });
  }

  data(chunk) {
    this.received.push(chunk);
    const buffer = this.received.length === 1 ? chunk : Buffer.concat(this.received);
    const answer = parseAnswer(buffer);
    if (answer === undefined) return;
    this.received = [];
    if (answer.close) this.socket.destroy();
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(answer);
  }
}

/** A whole answer in `buffer`, or undefined while more bytes are due. */
function parseAnswer(buffer) {
  const at = buffer.indexOf(head_end);
  if (at < 0) return undefined;
  const head = buffer.toString('latin1', 0, at);
  const status = Number(head.slice(9, 12));
  const close = /\r\nconnection: *close/i.test(head);
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (length !== null) {
    const end = at + 4 + Number(length[1]);
    return buffer.length < end ? undefined : { status, close, text: buffer.toString('utf8', at + 4, end) };
  }
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) return { status, close, text: '' };
  const parts = [];
  for (let p = at + 4; ;) {
    const line_end = buffer.indexOf('\r\n', p);
    if (line_end < 0) return undefined;
    const size = parseInt(buffer.toString('latin1', p, line_end), 16);
    if (buffer.length < line_end + 2 + size + 2) return undefined;
    if (size === 0) return { status, close, text: Buffer.concat(parts).toString('utf8') };
    parts.push(buffer.subarray(line_end + 2, line_end + 2 + size));
    p = line_end + 2 + size + 2;
  }
}

/** The connections, and the requests waiting for one (an open-loop run's queue). */
const idle = Array.from({ length: d.connections }, () => new Connection());
const queue = [];

function acquire() {
  const connection = idle.pop();
  if (connection !== undefined) return Promise.resolve(connection.usable ? connection : new Connection());
  return new Promise((resolve) => queue.push(resolve));
}

function release(connection) {
  const next_waiting = queue.shift();
  const usable = connection.usable ? connection : new Connection();
  if (next_waiting !== undefined) next_waiting(usable);
  else idle.push(usable);
}

async function exchange(method, path, headers, body) {
  const connection = await acquire();
  let text = `${method} ${path} HTTP/1.1\r\nhost: ${hostname}:${port}\r\n`;
  for (const [name, value] of Object.entries(headers)) text += `${name}: ${value}\r\n`;
  text += `content-length: ${body === undefined ? 0 : Buffer.byteLength(body)}\r\n\r\n${body ?? ''}`;
  try {
    return await connection.send(text);
  } finally {
    release(connection);
  }
}

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
  const { status, text } = await exchange(d.method, d.paths.length === 1 ? d.paths[0] : d.paths[i], headers, body);
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
  for (const connection of idle) connection.socket.end();
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
const opened = await Promise.all(Array.from({ length: d.connections }, async () => {
  const connection = await acquire();
  const answer = await connection.send(`GET /livez HTTP/1.1\r\nhost: ${hostname}:${port}\r\n\r\n`);
  return { connection, answer };
}));
for (const { connection } of opened) release(connection);
const refused = opened.find(({ answer }) => answer.status !== 200);
if (refused !== undefined) throw new Error(`GET /livez answered ${refused.answer.status}: ${refused.answer.text.slice(0, 200)}`);
parentPort.postMessage('ready');
