/**
 * Issue #8, bad input: property-based fuzzing of every route of the API (the app's own OpenAPI
 * document lists them) with fast-check. Each case sends one request made of random and
 * malformed parts — path ids, query strings, headers, bodies (wrong types, huge strings,
 * unicode incl. astral and right-to-left, NUL bytes, deep JSON, numbers where strings go, SQL
 * and HTML fragments, prototype-pollution keys, very long arrays) — with valid and invalid
 * tokens, mixed with valid values so that cases get past validation into the handlers.
 *
 * Properties of every answer:
 * - never a 5xx;
 * - a 4xx is application/problem+json with type, title, status (the same), detail and code;
 * - a 4xx wrote nothing: the database fingerprint (every table's rows, see fingerprinter in
 *   support/world.ts for the few columns left out and why) is the same before and after.
 *
 * Seeded: the seed is printed; FUZZ_SEED=<n> reproduces a run, FUZZ_RUNS_PER_ROUTE=<n>
 * changes its length (default 40 cases per route, about 3200 in all).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from './support/app.js';
import type { TestApp } from './support/app.js';
import {
  api, buildWorld, documentedRoutes, fingerprintDiff, fingerprinter, freshToken, valid_calls,
} from './support/world.js';
import type { Call, Fingerprint, JsonSchema, Role, Route, World } from './support/world.js';
import { encodeCursor } from '../src/http/lookup.js';
import { signToken } from '../src/security/tokens.js';

const seed = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 0x7fffffff) : Number(process.env.FUZZ_SEED);
const runs_per_route = Number(process.env.FUZZ_RUNS_PER_ROUTE ?? 40);
// Printed up front, so a failing run can be repeated whatever happens later.
console.log(`fuzz: seed ${seed}, ${runs_per_route} cases per route (FUZZ_SEED=${seed} reproduces this run)`);

/** Longest a response may take to arrive in full (an event stream that never ends fails). */
const response_time_max_ms = 10_000;

let t: TestApp;
let w: World;
let fingerprint: () => Promise<Fingerprint>;
let documented: Route[];
/** Callers used by the fuzzer: their own sessions, none of them named by any path or body. */
const principals: Partial<Record<Role, string>> = {};
/** Tokens that must be refused. */
const bad_tokens: string[] = [];
let cases_run = 0;
/** How the cases were answered ("201", "422 validation_failed", …), for the summary. */
const outcomes = new Map<string, number>();

// Building blocks ------------------------------------------------------------------------------

const sql_fragments = [
  "' OR '1'='1", "'; DROP TABLE accounts; --", '1 UNION SELECT password_hash FROM users--', '$$; SELECT 1; $$',
  "\\'; --", '%', '_', "E'\\x00'", '1; SELECT pg_sleep(10)', 'NULL', "') OR 1=1 --",
];
const html_fragments = [
  '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '&amp;&#0;&lt;', '</textarea><svg onload=alert(1)>',
  ']]><!--', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
];
const unicode_fragments = [
  '\u202Eevil\u202C', 'שלום', 'مرحبا بالعالم', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛', '😀👩‍👩‍👧‍👦🏳️‍🌈', '\uFEFFbom', '\u0000', 'a\u0000b', '\uD800', 'x\uDFFFy',
  '\uFFFF\uFFFE', 'İıß', 'e\u0301\u0301\u0301', 'Ⅷ', '٣٤٥', '１２．５０', '\u200B\u200C\u200D', '\u2028\u2029', '\t\n\r\v\f',
  'Ｔ\u200BＯＲ', 'tor', '\u{10FFFF}', '\u0085',
];
const number_like = [
  '0', '-1', '-0', '1e309', '1e-400', '0x10', '0b1', 'NaN', 'Infinity', '-Infinity', '9'.repeat(19), '9'.repeat(40),
  '9223372036854775807', '9223372036854775808', '-9223372036854775809', '1.005', '0.001', ' 1', '1 ', '+1', '1,50', '1.', '.5',
  '00001', '1_000', '12.345678901234567890', '١٢٣',
];
const other_strings = [
  '', ' ', 'null', 'undefined', 'true', '{}', '[]', '../../etc/passwd', '..', '.', '%00', '%', '%E0%A4%A', '%ZZ', '\\', '"', "'", '`',
  '${jndi:ldap://x/a}', '{{7*7}}', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty',
  '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2024-02-30T00:00:00Z', '1900-01-01', '0000-00-00', '9999-12-31', '2025-13-01',
  '2025-02-29', '1899-12-31', '-001000-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '2025-01-01T00:00:00+99:00',
];
const proto_keys = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toJSON', 'valueOf'];
const big_numbers = [
  1e308, -1e308, 2 ** 53 + 2, -(2 ** 63), 2 ** 63, 2 ** 31, -(2 ** 31) - 1, 0.1, 5e-324, -0, 1.5, 123456789.123456789,
];
/** Numbers JSON can carry but JavaScript cannot hold exactly, written into the body text as is. */
const raw_numbers = ['1e400', '-1e400', '123456789012345678901234567890', '0.' + '0'.repeat(400) + '1', '1E2', '-0.0', '1e-7'];
const malformed_bodies = [
  '{', '}', '{"a":', '{"a":1,}', "{'a':1}", '[1,2', 'nul', 'tru', '"unterminated', '{"a":1}{"b":2}', '\uFEFF{}', '{"a":"\\u00"}',
  '{"a":"\\ud800"}', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '\u0000', '',
  ' ', 'a=1&b=2', '--zzz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--zzz--', '<xml/>', '1e999', '-', '[]', 'null',
  '"\u0000"', '{"a":NaN}', '{"a":Infinity}', '{"a":undefined}', '{"a":0x10}', '{"a":01}',
];
const content_types = [
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=zzz', 'application/json; charset=latin1',
  'application/json; charset=utf-16', 'application/problem+json', 'APPLICATION/JSON', 'application/json, text/html', 'json',
  'application/xml', '*/*', 'application/json; boundary=x; charset="utf-8"', 'application/vnd.api+json', 'ü/ü',
];

/** Replaces lone surrogates, which cannot be percent-encoded (URIError) or sent in a URL. */
function wellFormed(s: string): string {
  return s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** A header value that a client can send at all (latin-1, no CR, LF or NUL). */
function headerSafe(s: string): string {
  return s.replace(/[^\u0020-\u007e\u00a0-\u00ff\t]/g, '?');
}

/** Every id and code of the world, by the kind of object they name. */
function idPools(world: World) {
  return {
    currency: [world.currency.code, world.other_currency.code],
    account: [world.wallet.account, world.spare_account, world.programme, world.shop.account, world.currency.issuance_account, world.other_currency.issuance_account],
    wallet: [world.wallet.account, world.target_wallet.account, world.card_wallet.account],
    card: [world.card_wallet.code, world.card_wallet.display_code, world.target_wallet.code],
    transfer: Object.values(world.transfers),
    activity: [world.activity],
    session: [world.session.id],
    shop: [world.shop.account, world.another_shop.account],
    device: [world.tablet.device, world.another_tablet.device, world.revoked_tablet.device],
    redemption: Object.values(world.redemptions),
    // Open requests are left out: their event stream stays open (see the events route).
    payment_request_final: [world.payment_requests.paid, world.payment_requests.cancelled],
    payment_request: Object.values(world.payment_requests),
    export: [world.payout_export],
    user: [world.spare_user],
    receive_code: [world.receive_code],
  };
}
type Pools = ReturnType<typeof idPools>;

/** Which pool a path parameter of a route draws its valid values from. */
function poolOf(route: Route, param: string): keyof Pools {
  if (param === 'device') return 'device';
  const first = route.path.split('/')[1] ?? '';
  if (param === 'code' && first === 'wallet') return 'receive_code';
  if (param === 'code') return first === 'cards' ? 'card' : 'currency';
  const by_prefix: Record<string, keyof Pools> = {
    accounts: 'account', wallets: 'wallet', transfers: 'transfer', activities: 'activity', sessions: 'session', shops: 'shop',
    users: 'user', redemptions: 'redemption', 'payment-requests': route.path.endsWith('/events') ? 'payment_request_final' : 'payment_request',
  };
  const pool = by_prefix[first];
  if (pool === undefined) throw new Error(`no id pool for ${param} of ${route.key}`);
  return pool;
}

/**
 * Who may call a route, roughly: most cases use such a caller, so that they get past the
 * access check into the handler (the permission table in permissions.test.ts is exact).
 */
function callersOf(route: Route): Role[] {
  const path = route.path;
  if (path === '/wallet' || path.startsWith('/wallet/') || path === '/claims' || path.endsWith('/pay')) return ['wallet', 'another_wallet'];
  if (path === '/shop' || path.startsWith('/shop/') || /^\/payment-requests\/\{id\}\/(events|cancel)$/.test(path)) return ['device', 'another_device'];
  return ['admin', 'coordinator'];
}

function arbitraries(pools: Pools, route: Route, base: Call) {
  // An open request's event stream stays open by design: the events route never gets one, not
  // even as "an id of another kind".
  const open_requests = new Set(pools.payment_request.filter((id) => !pools.payment_request_final.includes(id)));
  const all_ids = Object.values(pools).flat().filter((id) => !(route.path.endsWith('/events') && open_requests.has(id)));
  const huge = fc.tuple(fc.constantFrom('x', 'é', '𝔘', '\u202E', '\u0000', '9', 'ä\u0301'), fc.constantFrom(65, 101, 201, 501, 1025, 70_000))
    .map(([unit, n]) => unit.repeat(n));
  const cursor = fc.oneof(
    fc.bigInt({ min: 0n, max: 10n ** 20n }).map((n) => encodeCursor(n.toString())),
    fc.constantFrom('9999999999999999999', '9223372036854775807', '9223372036854775808', '0', '-1', '1e3').map((s) => encodeCursor(s)),
    fc.record({
      n: fc.oneof(fc.string(), fc.constantFrom(...unicode_fragments)),
      i: fc.oneof(fc.uuid(), fc.constantFrom(...all_ids), fc.string(), fc.stringMatching(/^[0-9a-f-]{36}$/)),
    })
      .map((v) => encodeCursor(v)),
    fc.jsonValue({ maxDepth: 2 }).map((v) => encodeCursor(v)),
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => Buffer.from(wellFormed(s)).toString('base64url')),
  );
  const weird_string: fc.Arbitrary<string> = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...sql_fragments, ...html_fragments, ...unicode_fragments, ...number_like, ...other_strings) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 3, arbitrary: fc.constantFrom(...all_ids) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: huge },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{1,8}$/) },
    { weight: 1, arbitrary: fc.stringMatching(/^-?[0-9]{0,22}(\.[0-9]{0,8})?$/) },
    { weight: 1, arbitrary: fc.date({ min: new Date(-62198755200000), max: new Date(253402300799000), noInvalidDate: true }).map((d) => d.toISOString()) },
    { weight: 1, arbitrary: cursor },
  );
  const key = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...route.body_properties, ...route.query_params, 'id', 'amount', 'code') },
    { weight: 2, arbitrary: fc.constantFrom(...proto_keys) },
    { weight: 1, arbitrary: weird_string },
  );
  const deep = fc.tuple(fc.integer({ min: 50, max: 2000 }), fc.boolean()).map(([depth, as_object]) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = as_object ? { a: value } : [value];
    return value;
  });
  const long_array = fc.tuple(fc.constantFrom(1001, 5000, 50_000), fc.constantFrom<unknown>(1, 'x', null, {}, all_ids[0]))
    .map(([n, item]) => Array.from({ length: n }, () => item));
  const { value: weird_value } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { weight: 6, arbitrary: weird_string },
      { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...big_numbers)) },
      { weight: 1, arbitrary: fc.constantFrom(true, false, null) },
      { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 4 }) },
      // Object.fromEntries makes own properties, "__proto__" included.
      { weight: 1, arbitrary: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map((entries) => Object.fromEntries(entries)) },
      { weight: 1, arbitrary: deep },
      { weight: 1, arbitrary: long_array },
    ),
  }));

  // Path: each parameter valid, from another pool, or weird; percent-encoded or written raw.
  const encode = (value: string, mode: number): string => {
    const safe = wellFormed(value);
    if (mode === 0) return encodeURIComponent(safe);
    if (mode === 1) return safe; // the URL parser encodes what it must
    return safe.replace(/[^A-Za-z0-9]/gu, (c) => (c.charCodeAt(0) < 128 ? `%${c.charCodeAt(0).toString(16).padStart(2, '0')}` : encodeURIComponent(c))) + '%';
  };
  const [base_path = '', base_query = ''] = base.path.split(/\?(.*)/s);
  const template = new RegExp(`^${route.path.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '([^/]+)')}$`);
  const base_values = template.exec(base_path)?.slice(1) ?? [];
  const param_value = (param: string, index: number) => fc.oneof(
    { weight: 4, arbitrary: fc.constant(base_values[index] ?? '') },
    { weight: 3, arbitrary: fc.constantFrom(...pools[poolOf(route, param)]) },
    { weight: 2, arbitrary: fc.constantFrom(...all_ids) },
    { weight: 1, arbitrary: fc.uuid().map((u) => (u.length % 2 === 0 ? u.toUpperCase() : `${u}x`)) },
    { weight: 4, arbitrary: weird_string },
  );
  const path = fc.tuple(...route.path_params.map((param, i) => fc.tuple(param_value(param, i), fc.nat({ max: 9 }))))
    .map((values) => {
      let index = 0;
      return route.path.replace(/\{[^}]+\}/g, () => {
        const [value, mode] = values[index++] ?? ['', 0];
        return encode(value, mode < 7 ? 0 : mode < 9 ? 1 : 2);
      });
    });

  /**
   * Values that the OpenAPI schema allows but that are nasty: edge lengths, edge numbers, NUL,
   * astral and right-to-left text, ids of the wrong kind. They get past the schema check into
   * the handler (Zod refinements the document does not show may still refuse them).
   */
  const uuids = all_ids.filter((id) => /^[0-9a-f-]{36}$/.test(id));
  const edge_text = (min: number, max: number) => fc.oneof(
    fc.string({ unit: 'binary', minLength: min, maxLength: Math.min(max, 40) }),
    // Decimal strings, small to huge: amounts, hours, rates.
    fc.stringMatching(/^-?[0-9]{1,25}(\.[0-9]{1,8})?$/),
    fc.constantFrom(...sql_fragments, ...html_fragments, ...unicode_fragments, ...number_like, ...other_strings)
      .filter((v) => v.length >= min && v.length <= max),
    // Exactly as long as allowed, counted in UTF-16 units as Zod does; astral characters take two.
    fc.constantFrom('x', '𝔘', 'é', '\u0000', '\u202E', ' ').map((unit) => unit.repeat(Math.max(min, Math.floor(max / unit.length)))),
  ).filter((v) => v.length >= min && v.length <= max);
  const fromSchema = (schema: JsonSchema | undefined, depth = 0): fc.Arbitrary<unknown> => {
    if (schema === undefined || depth > 6) return weird_value;
    const alternatives = schema.anyOf ?? schema.oneOf;
    if (alternatives !== undefined) return fc.oneof(...alternatives.map((alternative) => fromSchema(alternative, depth + 1)));
    if (schema.enum !== undefined && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
    switch (schema.type) {
      case 'string': {
        if (schema.format === 'uuid') return fc.oneof(fc.constantFrom(...uuids), fc.uuid());
        if (schema.format === 'date-time') {
          return fc.oneof(
            fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString()),
            fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999+14:00', '1970-01-01T00:00:00-12:00', '2024-02-29T23:59:60Z'),
          );
        }
        const min = schema.minLength ?? 0;
        const max = Math.min(schema.maxLength ?? 2000, 5000);
        if (schema.pattern !== undefined) {
          return fc.stringMatching(new RegExp(schema.pattern)).filter((v) => v.length >= min && v.length <= max);
        }
        return edge_text(min, max);
      }
      case 'integer': {
        const min = schema.minimum ?? -(2 ** 53) + 1;
        const max = schema.maximum ?? 2 ** 53 - 1;
        return fc.oneof(fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) }), fc.constantFrom(min, max));
      }
      case 'number': return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(...big_numbers));
      case 'boolean': return fc.boolean();
      case 'null': return fc.constant(null);
      case 'array': return fc.array(fromSchema(schema.items, depth + 1), { maxLength: Math.min(schema.maxItems ?? 4, 4) });
      case 'object': {
        const properties = schema.properties ?? {};
        const required = new Set(schema.required ?? []);
        const extra = typeof schema.additionalProperties === 'object'
          ? fc.array(fc.tuple(edge_text(0, 100), fromSchema(schema.additionalProperties, depth + 1)), { maxLength: 3 })
          : fc.constant([] as Array<[string, unknown]>);
        return fc.tuple(
          fc.tuple(...Object.entries(properties).map(([name, property]) =>
            fc.tuple(fc.constant(name), required.has(name) ? fromSchema(property, depth + 1) : fc.option(fromSchema(property, depth + 1), { nil: undefined })))),
          extra,
        ).map(([fields, more]) => Object.fromEntries([...more, ...fields.filter(([, v]) => v !== undefined)]));
      }
      default: return weird_value;
    }
  };
  const property_schemas = route.body_schema?.properties ?? {};

  // Query: the valid one, none, or random pairs (documented names and others), maybe repeated.
  const query_pair = fc.tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...route.query_params, 'limit', 'cursor') }, { weight: 1, arbitrary: key }),
    fc.oneof(weird_string, cursor, fc.constantFrom('1', '500', '501', '0', '1e2', '0x10', 'true', 'pending', 'wallet', 'category', 'month')),
  );
  const schema_query = fc.tuple(...route.query_params.map((name) =>
    fc.option(name === 'cursor' ? cursor : fromSchema(route.query_schemas[name]), { nil: undefined }).map((v) => [name, v] as const)))
    .map((pairs) => pairs.flatMap(([name, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [v])
      .map((item) => `${encodeURIComponent(name)}=${encodeURIComponent(wellFormed(typeof item === 'string' ? item : JSON.stringify(item)))}`))).join('&'));
  const query = fc.oneof(
    { weight: 2, arbitrary: fc.constant(base_query) },
    { weight: route.query_params.length === 0 ? 0 : 4, arbitrary: schema_query },
    { weight: 1, arbitrary: fc.constant('') },
    {
      weight: 5,
      arbitrary: fc.tuple(fc.array(query_pair, { maxLength: 5 }), fc.boolean()).map(([pairs, keep]) => [
        ...(keep && base_query !== '' ? [base_query] : []),
        ...pairs.map(([k, v]) => `${encodeURIComponent(wellFormed(k))}=${encodeURIComponent(wellFormed(v))}`),
      ].join('&')),
    },
    { weight: 1, arbitrary: fc.constantFrom('%', '&&&', '=', 'a=%E0%A4%A', '__proto__[x]=1', 'limit', 'limit=1&limit=2', 'a'.repeat(9000)) },
  );

  // Body: none, the valid one, the valid one with fields changed, added or dropped, any JSON, or raw text.
  const base_body = base.body;
  const base_object = typeof base_body === 'object' && base_body !== null && !Array.isArray(base_body) ? base_body as Record<string, unknown> : {};
  const mutated = fc.tuple(
    fc.array(fc.tuple(fc.constantFrom(...route.body_properties, ...Object.keys(base_object), 'id'), fc.oneof(weird_value, fc.constant(undefined))), { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(key, weird_value), { maxLength: 2 }),
  ).map(([changes, extras]) => {
    const body: Record<string, unknown> = { ...base_object };
    for (const [k, v] of changes) {
      if (v === undefined) delete body[k];
      // A batch gets its items changed too.
      else if (k === 'transfers' && Array.isArray(base_object.transfers) && typeof v === 'object' && v !== null && !Array.isArray(v)) {
        body.transfers = [{ ...(base_object.transfers[0] as object), ...v }, ...base_object.transfers];
      } else body[k] = v;
    }
    return JSON.stringify({ ...body, ...Object.fromEntries(extras) });
  });
  // The valid body with one field replaced by a schema-valid but nasty value (a batch: in its first item).
  const edged = Object.keys(property_schemas).length === 0 ? mutated : fc.constantFrom(...Object.keys(property_schemas)).chain((name) => {
    const items = property_schemas[name]?.items?.properties;
    if (name === 'transfers' && items !== undefined && Array.isArray(base_object.transfers)) {
      return fc.tuple(fc.constantFrom(...Object.keys(items)), fc.constant(items)).chain(([field, all]) =>
        fromSchema(all[field]).map((v) => JSON.stringify({ ...base_object, transfers: [{ ...(base_object.transfers as object[])[0], [field]: v }] })));
    }
    return fromSchema(property_schemas[name]).map((v) => JSON.stringify({ ...base_object, [name]: v }));
  });
  const raw_number = fc.tuple(fc.constantFrom(...route.body_properties, 'amount', 'limit'), fc.constantFrom(...raw_numbers))
    .map(([k, n]) => JSON.stringify(base_object).replace(/}$/, `${Object.keys(base_object).length === 0 ? '' : ','}"${k}":${n}}`));
  const raw_text = fc.oneof(
    fc.constantFrom(...malformed_bodies),
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.tuple(fc.integer({ min: 1000, max: 100_000 }), fc.constantFrom('[', '{"a":')).map(([n, open]) =>
      `${open.repeat(n)}1${(open === '[' ? ']' : '}').repeat(n)}`),
    fc.constant(`{"memo":"${'x'.repeat(1_100_000)}"}`),
  );
  const body = fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constant(base_body === undefined ? undefined : JSON.stringify(base_body)) },
    { weight: 5, arbitrary: mutated },
    { weight: 6, arbitrary: edged },
    { weight: route.body_schema === undefined ? 0 : 2, arbitrary: fromSchema(route.body_schema).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: raw_number },
    { weight: 2, arbitrary: weird_value.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: raw_text },
  );

  // Headers: the token (a live one of any caller, none, or a bad one), the key, the content type, extras.
  const auth = fc.oneof(
    { weight: 7, arbitrary: fc.constantFrom(...callersOf(route)).map((role) => ({ role })) },
    { weight: 3, arbitrary: fc.constantFrom(...Object.keys(principals) as Role[]).map((role) => ({ role })) },
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 2, arbitrary: fc.constantFrom(...bad_tokens).map((token) => ({ header: `Bearer ${token}` })) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.constantFrom('Bearer', 'Bearer ', 'bearer abc.def.ghi', 'Basic YWRtaW46YWRtaW4=', 'Bearer a b', `Bearer ${'a'.repeat(5000)}`, 'Token x', 'Bearer ..'),
        fc.string({ maxLength: 40 }).map((s) => `Bearer ${s}`),
      ).map((header) => ({ header })),
    },
  );
  const idempotency = fc.oneof(
    { weight: 6, arbitrary: fc.constant('fresh') },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.oneof(fc.constantFrom('', ' ', 'reused-key', 'k'.repeat(256), 'k'.repeat(255), 'ключ'), fc.string({ maxLength: 20 })) },
  );
  const content_type = fc.oneof(
    { weight: 8, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constantFrom(...content_types) },
  );
  const extra_headers = fc.array(fc.tuple(
    fc.constantFrom('Accept', 'Origin', 'X-Forwarded-For', 'X-Request-Id', 'Accept-Language', 'If-None-Match', 'Range', 'Accept-Encoding', 'X-HTTP-Method-Override', 'Cookie'),
    fc.oneof(weird_string, fc.constantFrom('text/event-stream', 'https://evil.example', '1.2.3.4, ::1', 'bytes=0-1', 'gzip', 'DELETE', '*')),
  ), { maxLength: 3 });
  const method = fc.oneof(
    { weight: 30, arbitrary: fc.constant(route.method) },
    { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') },
  );

  return fc.record({ method, path, query, body, auth, idempotency, content_type, extra_headers });
}

type FuzzCase = ReturnType<typeof arbitraries> extends fc.Arbitrary<infer T> ? T : never;

/** Makes sure every caller of the fuzzer still has a live session (a case may have ended one). */
async function refreshPrincipals(): Promise<void> {
  const probes: Record<Role, string | undefined> = {
    anonymous: undefined, wallet: '/wallet', another_wallet: '/wallet', device: '/shop', another_device: '/shop',
    revoked_device: undefined, other_coordinator: '/auth/me', coordinator: '/auth/me', admin: '/auth/me',
  };
  for (const [role, probe] of Object.entries(probes) as Array<[Role, string | undefined]>) {
    if (probe === undefined) continue;
    const token = principals[role];
    if (token !== undefined && (await t.request('GET', `${api}${probe}`, { token })).status === 200) continue;
    principals[role] = await freshPrincipal(role);
  }
}

/** A caller of its own: a new wallet, a new tablet of the world's shops, a new staff user. */
async function freshPrincipal(role: Role): Promise<string | undefined> {
  if (role === 'wallet' || role === 'another_wallet') {
    const made = await t.request('POST', `${api}/currencies/${w.currency.code}/wallets`, {
      token: t.adminToken, body: { display_name: `Fuzzer ${role}`, pin: '8642' },
    });
    expect(made.status).toBe(201);
    await t.request('POST', `${api}/currencies/${w.currency.code}/issue`, {
      token: t.adminToken, idempotencyKey: `fund-${made.body.account.id}`, body: { to_account: made.body.account.id, amount: '50.00' },
    });
    const session = await t.request('POST', `${api}/wallet/session`, { body: { card: made.body.card.code, pin: '8642' } });
    expect(session.status).toBe(200);
    return session.body.token as string;
  }
  return freshToken(w, role);
}

/** Sends one case and checks the properties; throws with the whole story when one fails. */
async function check(route: Route, c: FuzzCase, before: Fingerprint): Promise<Fingerprint> {
  cases_run += 1;
  const headers: Record<string, string> = {};
  if ('role' in c.auth && c.auth.role !== undefined) {
    const token = principals[c.auth.role];
    if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  } else if ('header' in c.auth && c.auth.header !== undefined) {
    headers.Authorization = headerSafe(c.auth.header);
  }
  if (c.idempotency !== undefined) headers['Idempotency-Key'] = headerSafe(c.idempotency === 'fresh' ? `fuzz-${seed}-${cases_run}` : c.idempotency);
  if (c.body !== undefined && c.content_type !== undefined) headers['Content-Type'] = c.content_type;
  for (const [name, value] of c.extra_headers) headers[name] = headerSafe(wellFormed(value)).slice(0, 8000);
  const url = `${api}${c.path}${c.query === '' ? '' : `?${c.query}`}`;
  const has_body = c.body !== undefined && c.method !== 'GET' && c.method !== 'HEAD';
  const story = () => `${c.method} ${url.slice(0, 300)}\nheaders: ${JSON.stringify(headers).slice(0, 400)}\nbody: ${has_body ? c.body?.slice(0, 400) : '(none)'}`;

  const response = await t.app.request(url, { method: c.method, headers, ...(has_body ? { body: c.body } : {}) });
  let timer: NodeJS.Timeout | undefined;
  const text = await Promise.race([
    response.text(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no complete response within ${response_time_max_ms} ms:\n${story()}`)), response_time_max_ms);
    }),
  ]).finally(() => clearTimeout(timer));
  const status = response.status;
  if (status >= 500) throw new Error(`${status} for\n${story()}\nanswer: ${text.slice(0, 500)}`);
  const after = await fingerprint();
  let code = '';
  try {
    code = status >= 400 && c.method !== 'HEAD' ? String((JSON.parse(text) as { code?: unknown }).code) : '';
  } catch {
    code = '(not JSON)';
  }
  const outcome = `${status} ${code}`.trim();
  outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
  if (status >= 400) {
    const type = response.headers.get('content-type') ?? '';
    if (!type.startsWith('application/problem+json')) throw new Error(`${status} as ${type}, not problem+json, for\n${story()}`);
    if (c.method !== 'HEAD') {
      const problem = JSON.parse(text) as Record<string, unknown>;
      for (const field of ['type', 'title', 'detail', 'code']) {
        if (typeof problem[field] !== 'string') throw new Error(`problem without ${field} for\n${story()}\n${text.slice(0, 300)}`);
      }
      if (problem.status !== status) throw new Error(`problem status ${String(problem.status)} ≠ ${status} for\n${story()}`);
    }
    const changed = fingerprintDiff(before, after);
    if (changed.length > 0) throw new Error(`${status} (${text.slice(0, 200)}) but the database changed (${changed.join('; ')}) for\n${story()}`);
  }
  return after;
}

beforeAll(async () => {
  t = await createTestApp();
  w = await buildWorld(t, { currency: 'FUZ', other: 'FOO' });
  fingerprint = await fingerprinter(t);
  documented = await documentedRoutes(t);
  await refreshPrincipals();
  principals.revoked_device = w.tokens.revoked_device;
  const keys = t.deps.keys;
  const staff_claims = { sub: '00000000-0000-4000-8000-000000000000', sid: '00000000-0000-4000-8000-000000000000' };
  const valid = principals.admin ?? '';
  const [header = '', payload = ''] = valid.split('.');
  const other_key = { current_kid: 'test', keys: new Map([['test', new Uint8Array(32).fill(7)]]) };
  bad_tokens.push(
    (await signToken(keys, 'staff', staff_claims, -60)).token, // expired, of nobody
    (await signToken(keys, 'staff', staff_claims, 600)).token, // well signed, no such session
    (await signToken(other_key, 'staff', staff_claims, 600)).token, // another key
    (await signToken(keys, 'claim', staff_claims, 600)).token, // another audience
    w.session.claim_token,
    `${header}.${payload.slice(0, -2)}AA.${valid.split('.')[2] ?? ''}`, // tampered payload
    `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`,
    'a.b.c', '...', 'x'.repeat(4096),
  );
});

afterAll(async () => {
  const summary = [...outcomes].sort((a, b) => b[1] - a[1]).map(([outcome, n]) => `${outcome}: ${n}`).join(', ');
  console.log(`fuzz: ${cases_run} cases run with seed ${seed}; answers: ${summary}`);
  await t?.close();
});

describe('fuzzing every route: no 5xx, 4xx always problem+json, a refusal writes nothing', () => {
  it('fuzzes the routes of the OpenAPI document, all of which have a valid request to start from', () => {
    expect(documented.length).toBeGreaterThanOrEqual(78);
    expect(documented.map((r) => r.key).filter((key) => valid_calls[key] === undefined)).toEqual([]);
  });

  it('replays the inputs that once made a 5xx: each is now a 4xx problem (writing nothing) or a 2xx', async () => {
    const admin = t.adminToken;
    const refused = async (status: number, method: string, path: string, options: Parameters<TestApp['request']>[2] = {}) => {
      const before = await fingerprint();
      const reply = await t.request(method, `${api}${path}`, options);
      expect(reply.status, `${method} ${path}: ${JSON.stringify(reply.body)}`).toBe(status);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(fingerprintDiff(before, await fingerprint()), `${method} ${path} wrote`).toEqual([]);
      return reply;
    };
    const c = w.currency.code;
    // Client text PostgreSQL cannot store, reaching the audit log: a NUL in a typed card, a lone
    // surrogate in a tablet's name, an email whose 200-character cut splits an astral character.
    await refused(401, 'POST', '/wallet/session', { body: { card: '\u0000'.repeat(20), pin: '2468' } });
    await refused(422, 'POST', '/shop/charges', { token: w.tokens.device, idempotencyKey: 'nul-card', body: { card: 'K\u0000', pin: '2468', amount: '1.00' } });
    await refused(422, 'POST', '/shop/devices', { body: { pairing_code: 'ABCD-EFGH', device_name: '\ud800' } });
    await refused(422, 'POST', `/currencies/${c}/accounts`, { token: admin, body: { kind: 'wallet', name: 'x\udfff' } });
    await refused(401, 'POST', '/auth/login', { body: { email: `${'a'.repeat(199)}𝔘@example.org`, password: 'wrong' } });
    // Cursors past PostgreSQL's bigint, or with an id that only looks like a uuid.
    const too_big = encodeCursor('9999999999999999999');
    await refused(422, 'GET', `/wallet/entries?cursor=${too_big}`, { token: w.tokens.wallet });
    await refused(422, 'GET', `/wallet/entries?cursor=${encodeCursor({ own: '9999999999999999999', other: null })}`, { token: w.tokens.wallet });
    await refused(422, 'GET', `/wallet/entries?cursor=${encodeCursor({ own: null, other: ['99999999999999999999', w.wallet.account] })}`, { token: w.tokens.wallet });
    await refused(422, 'GET', `/shop/entries?cursor=${too_big}`, { token: w.tokens.device });
    await refused(422, 'GET', `/accounts/${w.wallet.account}/entries?cursor=${too_big}`, { token: admin });
    await refused(422, 'GET', `/audit-log?cursor=${encodeCursor('9223372036854775808')}`, { token: admin });
    await refused(422, 'GET', `/currencies/${c}/accounts?cursor=${encodeCursor({ n: 'a', i: '-'.repeat(36) })}`, { token: admin });
    // Instants PostgreSQL cannot hold: year 0 (also by the offset), past 9999 (by the offset).
    await refused(422, 'GET', '/audit-log?from=0000-01-01T00:00:00Z', { token: admin });
    await refused(422, 'GET', `/currencies/${c}/audit-log?to=${encodeURIComponent('0001-01-01T00:00:00+14:00')}`, { token: admin });
    await refused(422, 'POST', `/activities/${w.activity}/sessions`, { token: admin, body: { expires_at: '9999-12-31T23:59:59-12:00' } });
    // A payer name with nothing a bank can print would break every SEPA file.
    await refused(422, 'PATCH', `/currencies/${c}`, { token: admin, body: { payer_name: '😀' } });
    // A shop named in emoji only still gets its payout into the SEPA file.
    expect((await t.request('PATCH', `${api}/shops/${w.another_shop.account}`, { token: admin, body: { name: '🥖🧀' } })).status).toBe(200);
    const cash_out = await t.request('POST', `${api}/shop/redemptions`, { token: w.tokens.another_device, idempotencyKey: 'emoji-shop', body: { amount: '1.00' } });
    expect(cash_out.status, JSON.stringify(cash_out.body)).toBe(201);
    expect((await t.request('POST', `${api}/redemptions/${cash_out.body.id}/approve`, { token: admin })).status).toBe(200);
    const exported = await t.request('POST', `${api}/currencies/${c}/payout-exports`, { token: admin });
    expect(exported.status, JSON.stringify(exported.body)).toBe(201);
    const xml = await t.request('GET', exported.body.xml_url as string, { token: admin });
    expect(xml.status, String(xml.body).slice(0, 300)).toBe(200);
    expect(String(xml.body)).toMatch(/<Nm>Shop [A-Z0-9-]+<\/Nm>/);
    // A cash-out worth more than one SEPA transfer can pay is refused when asked for.
    const rich = await t.request('POST', `${api}/currencies`, {
      token: admin, body: { code: 'RICH', name: 'Rich', scale: 0, euro_per_unit: '999999999999.999999999999' },
    });
    expect(rich.status).toBe(201);
    const rich_shop = await t.request('POST', `${api}/currencies/RICH/shops`, { token: admin, body: { name: 'Bank', iban: 'BE68539007547034' } });
    expect(rich_shop.status).toBe(201);
    const rich_tablet = await t.request('POST', `${api}/shop/devices`, { body: { pairing_code: rich_shop.body.pairing_code, device_name: 'Till' } });
    expect(rich_tablet.status).toBe(201);
    expect((await t.request('POST', `${api}/currencies/RICH/issue`, {
      token: admin, idempotencyKey: 'rich', body: { to_account: rich_shop.body.account.id, amount: '1000000' },
    })).status).toBe(201);
    await refused(422, 'POST', '/shop/redemptions', { token: rich_tablet.body.token, idempotencyKey: 'rich-cash-out', body: { amount: '1000000' } });
  });

  it.each(Object.keys(valid_calls))('%s', async (key) => {
    const route = documented.find((r) => r.key === key);
    const build = valid_calls[key];
    if (route === undefined || build === undefined) throw new Error(`${key} is not documented`);
    await refreshPrincipals();
    const base = await build(w);
    let baseline = await fingerprint();
    const route_seed = seed + Object.keys(valid_calls).indexOf(key);
    await fc.assert(fc.asyncProperty(arbitraries(idPools(w), route, base), async (c) => {
      baseline = await check(route, c, baseline);
      // A logout or unpairing may have ended a caller's session: give it a new one.
      if (base.ends_session === true) {
        await refreshPrincipals();
        baseline = await fingerprint();
      }
    }), { seed: route_seed, numRuns: runs_per_route, endOnFailure: true });
  });
});
