import { OpenAPIHono, createRoute, z } from '@hono/zod-openapi';
import type { AppDeps, AppEnv } from '../context.js';
import { Amount, jsonResponse, problems } from '../schemas.js';
import { formatAmount } from '../../ledger/amount.js';
import { impact_people_min } from '../../ledger/impact.js';
import type { Shown } from '../../ledger/impact.js';
import { activity_categories } from '../../ledger/volunteering.js';
import { impact_months_default, impact_months_max, publicImpact } from '../../app/impact.js';
import type { PublicImpact, SpendingFigures, VolunteeringFigures } from '../../app/impact.js';
import { services } from '../idempotency.js';

/**
 * What anyone may read without a login: the public view of what a neighbourhood did
 * (docs/impact.md). Counts only; a group of fewer than ten people is hidden.
 */
export const publicRoutes = new OpenAPIHono<AppEnv>();

/** How long a browser or the city's site may keep the public view before asking again. */
const impact_cache_s = 300;
/** Answers kept per app at most (currencies × months asked); the oldest goes first. */
const impact_cache_entries_max = 1000;

/** The answers of each app (its deps), by currency and months, until when they are reused (IMPACT_CACHE_S). */
const answers = new WeakMap<AppDeps, Map<string, { until_ms: number; body: unknown }>>();

/** The kept answer for `key`, or a new one made by `make` and kept for IMPACT_CACHE_S. */
async function cached<T>(deps: AppDeps, key: string, make: () => Promise<T>): Promise<T> {
  const ttl_ms = deps.config.IMPACT_CACHE_S * 1000;
  if (ttl_ms === 0) return make();
  let kept = answers.get(deps);
  if (kept === undefined) answers.set(deps, kept = new Map());
  const hit = kept.get(key);
  if (hit !== undefined && hit.until_ms > Date.now()) return hit.body as T;
  const body = await make();
  kept.delete(key);
  if (kept.size >= impact_cache_entries_max) kept.delete(kept.keys().next().value as string);
  kept.set(key, { until_ms: Date.now() + ttl_ms, body });
  return body;
}

const Month = z.string().regex(/^[0-9]{4}-[0-9]{2}$/).openapi({ example: '2026-03' });

const Hidden = z.object({
  suppressed: z.literal(true),
  reason: z.enum(['small_group', 'complement']).openapi({
    description: '`small_group`: the figures are about 1 to 9 people (show "< 10"); `complement`: hidden too, so that a '
      + 'small group cannot be worked out from the total minus the groups shown',
  }),
  fewer_than: z.number().int().openapi({ description: `The threshold: ${impact_people_min}` }),
}).openapi('ImpactHidden');

const Volunteering = z.discriminatedUnion('suppressed', [
  z.object({
    suppressed: z.literal(false),
    hours: z.string().openapi({ description: 'Hours volunteered (rewards net of reversals), two decimals', example: '42.50' }),
    coins_earned: Amount.openapi({ description: 'Coins earned by volunteering, net of reversals' }),
    volunteers: z.number().int().min(0).openapi({ description: 'Volunteers rewarded (distinct wallets)' }),
  }),
  Hidden,
]).openapi('ImpactVolunteering');

const Spending = z.discriminatedUnion('suppressed', [
  z.object({
    suppressed: z.literal(false),
    coins_spent: Amount.openapi({ description: 'Coins paid at shops minus refunds, net of reversals' }),
  }),
  Hidden,
]).openapi('ImpactSpending');

const ImpactOut = z.object({
  currency: z.object({ code: z.string(), name: z.string(), scale: z.number().int() }),
  from: Month, to: Month,
  people_min: z.number().int().openapi({ description: 'Figures about fewer people than this are not shown' }),
  total: z.object({ volunteering: Volunteering, spending: Spending, active_shops: z.number().int().min(0) }),
  months: z.array(z.object({ month: Month, volunteering: Volunteering, spending: Spending, active_shops: z.number().int().min(0) })),
  categories: z.array(z.object({ category: z.enum(activity_categories), volunteering: Volunteering })),
}).openapi('PublicImpact');

function presentShown<T, P extends object>(shown: Shown<T>, present: (figures: T) => P) {
  return shown.hidden
    ? { suppressed: true as const, reason: shown.reason, fewer_than: impact_people_min }
    : { suppressed: false as const, ...present(shown.figures) };
}

publicRoutes.openapi(createRoute({
  method: 'get', path: '/public/currencies/{code}/impact', tags: ['public'],
  summary: 'What the neighbourhood did: hours, coins earned and spent, volunteers and shops, per month and category (no login)',
  description: 'Counts only. A group whose figures are about 1 to 9 people is `{suppressed: true, reason: "small_group"}` '
    + '(shown as "< 10"); another may be hidden with it (`complement`) so that it cannot be worked out from the total. '
    + `Browsers and caches may keep it ${impact_cache_s} s; the service reuses its figures for IMPACT_CACHE_S (default 60 s).`,
  security: [],
  request: {
    params: z.object({ code: z.string().max(20) }),
    query: z.object({
      months: z.coerce.number().int().min(1).max(impact_months_max).optional()
        .openapi({ description: `Months up to and including this one (default ${impact_months_default}, at most ${impact_months_max})` }),
    }),
  },
  responses: { 200: jsonResponse(ImpactOut, 'The public figures'), ...problems(404, 422) },
}), async (c) => {
  const code = c.req.valid('param').code;
  const months = c.req.valid('query').months ?? impact_months_default;
  const body = await cached(c.get('deps'), `${code}:${months}`, async () => presentImpact(await publicImpact(services(c), code, months)));
  c.header('Cache-Control', `public, max-age=${impact_cache_s}`);
  return c.json(body, 200);
});

/** The public view as JSON: amounts as decimal strings of the currency's scale. */
function presentImpact(impact: PublicImpact) {
  const scale = impact.currency.scale;
  const volunteering = (s: Shown<VolunteeringFigures>) => presentShown(s, (f) => ({
    hours: f.hours, coins_earned: formatAmount(f.coins_earned, scale), volunteers: f.volunteers,
  }));
  const spending = (s: Shown<SpendingFigures>) => presentShown(s, (f) => ({ coins_spent: formatAmount(f.coins_spent, scale) }));
  return {
    currency: { code: impact.currency.code, name: impact.currency.name, scale },
    from: impact.from, to: impact.to, people_min: impact_people_min,
    total: { volunteering: volunteering(impact.total.volunteering), spending: spending(impact.total.spending), active_shops: impact.total.active_shops },
    months: impact.months.map((m) => ({
      month: m.month, volunteering: volunteering(m.volunteering), spending: spending(m.spending), active_shops: m.active_shops,
    })),
    categories: impact.categories.map((k) => ({ category: k.category, volunteering: volunteering(k.volunteering) })),
  };
}
