import { z } from 'zod';

/**
 * Every setting of the service, read from the environment once and validated. Each limit has
 * a name with its unit and a default; the README's configuration table lists them all.
 */
const rate_max = z.coerce.number().int().min(1).max(1_000_000);

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  /** Public address of the service, used in QR codes and links. */
  PUBLIC_BASE_URL: z.string().url().optional(),
  /** Behind a reverse proxy: take the client address from X-Forwarded-For, the request id from X-Request-Id. */
  TRUST_PROXY: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  /** PostgreSQL to use; without it an embedded server runs in DATA_DIR. */
  DATABASE_URL: z.string().optional(),
  DATA_DIR: z.string().default('./.data'),
  /** Signing key for tokens (≥ 32 bytes); without it one is generated once into DATA_DIR. */
  JWT_SECRET: z.string().min(32).optional(),
  /**
   * Older signing keys, comma-separated: tokens they signed (named by their `kid`) are still
   * accepted until they expire, but nothing new is signed with them. Remove a key once the
   * longest token lifetime has passed since it was replaced.
   */
  JWT_SECRETS_PREVIOUS: z.string().optional()
    .transform((value) => (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .refine((secrets) => secrets.every((s) => s.length >= 32), 'each previous secret must be at least 32 characters'),
  STAFF_TOKEN_TTL_S: z.coerce.number().int().min(60).max(7 * 86400).default(8 * 3600),
  /** A phone stays opened this long; the session is revocable at any moment. */
  WALLET_TOKEN_TTL_S: z.coerce.number().int().min(60).max(365 * 86400).default(30 * 86400),
  /** Shop tablets stay paired this long unless a coordinator revokes them. */
  DEVICE_TOKEN_TTL_S: z.coerce.number().int().min(60).max(5 * 365 * 86400).default(365 * 86400),
  PAIRING_CODE_TTL_S: z.coerce.number().int().min(60).max(30 * 86400).default(24 * 3600),
  /** Wrong PINs in a row that lock a card. */
  PIN_FAILURES_MAX: z.coerce.number().int().min(1).max(20).default(5),
  /** The first lock's length; each next one lasts 4 times longer (15 min, 1 h, 4 h). */
  PIN_LOCK_S: z.coerce.number().int().min(1).max(7 * 86400).default(15 * 60),
  /** Timed locks before the next one holds until a coordinator unlocks the card (docs/security.md). */
  PIN_TIMED_LOCKS_MAX: z.coerce.number().int().min(0).max(10).default(3),
  /** How long a claim QR stays valid when the coordinator gives no expiry. */
  CLAIM_SESSION_TTL_S: z.coerce.number().int().min(60).max(90 * 86400).default(12 * 3600),
  /** scrypt cost (log2 of N) for passwords and PINs. */
  SCRYPT_COST_LOG2: z.coerce.number().int().min(10).max(20).default(17),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_SIZE_MAX: z.coerce.number().int().min(1).max(200).default(20),
  /** Most value-moving requests combined into one database transaction (see docs/performance.md). */
  BATCH_SIZE_MAX: z.coerce.number().int().min(1).max(10_000).default(500),
  /** Most such transactions of one currency in flight at once; a request waits only for these. */
  BATCH_INFLIGHT_MAX: z.coerce.number().int().min(1).max(64).default(1),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  BODY_SIZE_MAX_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** How often new transfers are sealed into the hash chain (0: only by `wijkmunt seal`). */
  SEAL_INTERVAL_S: z.coerce.number().int().min(0).max(86_400).default(300),
  /**
   * How often the service runs the expiry of coins (0: only by `wijkmunt expire`). A run takes
   * back what expired by today and changes nothing more on the same day, so an hourly run
   * takes each day's expired coins within an hour of midnight, and one after a restart catches up.
   */
  EXPIRY_INTERVAL_S: z.coerce.number().int().min(0).max(86_400).default(3600),
  /**
   * Days that idempotency records, finished or expired payment requests, ended sessions and
   * pairing codes are kept (docs/privacy.md). A retried request with a key older than this is a
   * new request: clients retry within minutes, so a month leaves a wide margin.
   */
  RETENTION_DAYS: z.coerce.number().int().min(2).max(3650).default(30),
  /**
   * Days after which an audit row's client address is cut to its network (/24, /48) and a failed
   * login's or PIN attempt's typed email or unknown card code becomes a pseudonym: long enough
   * to look into an attack afterwards (docs/privacy.md).
   */
  PSEUDONYMISE_AFTER_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** How often the service runs the retention (0: only by `wijkmunt prune`). */
  RETENTION_INTERVAL_S: z.coerce.number().int().min(0).max(86_400).default(3600),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  /**
   * Brute-force brakes, per client address, over a sliding minute. They count failed attempts
   * (a success gives its attempt back); above the limit the answer is 429 with Retry-After,
   * before any password or PIN is compared. None counts across addresses, so a stranger's
   * failures never refuse the owner's own attempts from elsewhere (docs/security.md).
   */
  LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: rate_max.default(10),
  /** Failed logins for one email from one address. */
  LOGIN_FAILURES_PER_EMAIL_PER_MINUTE_MAX: rate_max.default(5),
  /** Wrong card + PIN from one address (wallet login, PIN change and shop charges together); per card: the lockout above. */
  PIN_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: rate_max.default(10),
  PAIRING_FAILURES_PER_ADDRESS_PER_MINUTE_MAX: rate_max.default(5),
  /** How many addresses, emails, cards the rate limiter tracks at most; the oldest go first. */
  RATE_LIMIT_KEYS_MAX: z.coerce.number().int().min(100).max(10_000_000).default(50_000),
  /**
   * Where Prometheus reads /metrics. With METRICS_TOKEN (at least 32 characters), on the main
   * listener, to `Authorization: Bearer <METRICS_TOKEN>` only. Without it, only on a listener of
   * its own at METRICS_HOST:METRICS_PORT, loopback by default (METRICS_PORT 0: no metrics at all);
   * the main listener then answers 404 for /metrics.
   */
  METRICS_TOKEN: z.string().min(32).optional(),
  METRICS_HOST: z.string().default('127.0.0.1'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** Browser origins allowed to call the API cross-origin, comma-separated; none by default. */
  CORS_ORIGINS: z.string().optional()
    .transform((value) => (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== ''))
    .refine((origins) => origins.every(isOrigin), 'each origin must look like https://host[:port], without a path'),
  /**
   * How long a process reuses the figures of the public impact view before reading them again
   * (0: every request reads them): anyone may ask for them, often, without a login.
   */
  IMPACT_CACHE_S: z.coerce.number().int().min(0).max(3600).default(60),
  /**
   * Sites that may show the public impact page (/impact/<code>) in a frame, space- or
   * comma-separated origins (https://stad.gent); none by default. No other page may be framed.
   */
  IMPACT_FRAME_ANCESTORS: z.string().optional()
    .transform((value) => (value ?? '').split(/[\s,]+/).filter((s) => s !== ''))
    .refine((origins) => origins.every(isOrigin), 'each origin must look like https://host[:port], without a path'),
});

export type Config = z.infer<typeof schema> & { public_base_url: string };

/** Parses the environment; throws a readable error naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const config = parsed.data;
  return { ...config, public_base_url: (config.PUBLIC_BASE_URL ?? `http://localhost:${config.PORT}`).replace(/\/$/, '') };
}

/** Removes secrets from the environment once read, so no child process or dump sees them. */
export function scrubSecrets(env: NodeJS.ProcessEnv = process.env): void {
  delete env.JWT_SECRET;
  delete env.JWT_SECRETS_PREVIOUS;
  delete env.DATABASE_URL;
  delete env.METRICS_TOKEN;
}
