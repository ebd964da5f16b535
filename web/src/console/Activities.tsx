import { useEffect, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { consoleApi } from '../api.js';
import { formatAmount, formatDate, formatNumber, localizedName, t, tMaybe } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { fromMinor, scaleOf, toMinor } from '../lib/money.js';
import { Alert } from '../ui/Alert.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Btn, BtnLink, Field, Panel, StatusTag } from './ui.js';
import { amountInput, currency, hoursInput } from './state.js';
import { SessionList } from './SessionList.js';
import type { Account, Activity, Currency } from './state.js';

export const activity_categories = ['repair_cafe', 'it_repair', 'buurtbeheer', 'street_ambassador', 'neighbourhood_party', 'other'] as const;
type Category = (typeof activity_categories)[number];

export function categoryName(category: string): string {
  return tMaybe(`console.category_${category}`) ?? category;
}

/** "25 TOR per hour" or "50 TOR each time". */
export function rewardText(activity: Pick<Activity, 'rate_per_hour' | 'amount'>, code: string): string {
  if (activity.rate_per_hour !== null) return t('console.reward_per_hour', { amount: formatAmount(activity.rate_per_hour, code) });
  return t('console.reward_fixed', { amount: formatAmount(activity.amount ?? '0', code) });
}

/** The reward of `hours` at `rate` (rounded half up to the currency's smallest unit), as the server computes it. */
export function rewardFor(rate: string, hours: string): string {
  const scale = scaleOf(rate);
  const [whole = '0', fraction = ''] = hours.split('.');
  const hundredths = BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
  const times100 = toMinor(rate, scale) * hundredths;
  return fromMinor((times100 + 50n) / 100n, scale);
}

async function loadCatalogue(code: string): Promise<{ activities: Activity[]; programmes: Account[] }> {
  const [a, p] = await Promise.all([
    consoleApi.get('/currencies/{code}/activities', { path: { code } }),
    consoleApi.get('/currencies/{code}/accounts', { path: { code }, query: { kind: 'programme', limit: 200 } }),
  ]);
  return { activities: a.items, programmes: p.items };
}

/** The sessions running now, from every device (the server's list). */
function RunningSessions({ cur }: { cur: Currency }) {
  return (
    <Panel title={t('console.sessions_open')} icon="qr" testid="sessions-open"
      actions={<BtnLink small variant="ghost" icon="list" href="/console/sessions">{t('console.sessions_all')}</BtnLink>}>
      <SessionList code={cur.code} open />
    </Panel>
  );
}

function Catalogue({ cur }: { cur: Currency }) {
  const [data, setData] = useState<{ activities: Activity[]; programmes: Account[] } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const load = async () => {
    setError(undefined);
    try {
      setData(await loadCatalogue(cur.code));
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => { void load(); }, [cur.code]);
  if (error !== undefined) return <ProblemAlert error={error} onRetry={() => void load()} />;
  if (data === undefined) return <Loading />;
  const programme_names = new Map(data.programmes.map((p) => [p.id, p.name]));
  if (data.activities.length === 0) return <p class="muted">{t('console.activities_none')}</p>;
  return (
    <div class="table-wrap">
      <table class="table" data-testid="activity-list">
        <thead>
          <tr>
            <th scope="col">{t('console.col_activity')}</th>
            <th scope="col">{t('console.col_reward')}</th>
            <th scope="col">{t('console.col_programme')}</th>
            <th scope="col">{t('console.col_status')}</th>
            <th scope="col"><span class="sr-only">{t('console.col_actions')}</span></th>
          </tr>
        </thead>
        <tbody>
          {data.activities.map((a) => (
            <tr key={a.id} data-testid="activity-row" data-id={a.id} data-name={a.name.nl}>
              <td>
                <strong>{localizedName(a.name)}</strong>
                <br /><span class="muted">{categoryName(a.category)}</span>
              </td>
              <td>{rewardText(a, cur.code)}</td>
              <td>{programme_names.get(a.programme_account) ?? '—'}</td>
              <td>{a.active ? <StatusTag kind="ok">{t('console.active')}</StatusTag> : <StatusTag kind="neutral">{t('console.inactive')}</StatusTag>}</td>
              <td class="row-actions">
                <div class="row-buttons">
                  {a.active && (
                    <BtnLink small icon="play" href={`/console/activities/${a.id}/session`} data-testid="session-start">
                      {t('console.session_start')}
                    </BtnLink>
                  )}
                  <BtnLink small variant="secondary" icon="edit" href={`/console/activities/${a.id}`} data-testid="activity-edit">
                    {t('console.edit')}
                  </BtnLink>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function Activities() {
  const cur = currency.value;
  return (
    <ConsolePage title={t('console.activities_title')} testid="console-activities"
      actions={<BtnLink href="/console/activities/new" icon="plus" data-testid="activity-new">{t('console.activity_new')}</BtnLink>}>
      <p class="lead">{t('console.activities_intro')}</p>
      {cur === undefined ? <p>{t('console.no_currency')}</p> : (
        <>
          <RunningSessions cur={cur} />
          <Catalogue cur={cur} />
        </>
      )}
    </ConsolePage>
  );
}

// Create and edit ----------------------------------------------------------------------------------

export function ActivityForm() {
  const { params } = useRoute();
  const { route } = useLocation();
  const id = params.id;
  const cur = currency.value;
  const [programmes, setProgrammes] = useState<Account[] | undefined>(undefined);
  const [existing, setExisting] = useState<Activity | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [nameNl, setNameNl] = useState('');
  const [nameEn, setNameEn] = useState('');
  const [nameFr, setNameFr] = useState('');
  const [category, setCategory] = useState<Category>('other');
  const [pay, setPay] = useState<'hour' | 'fixed'>('hour');
  const [amount, setAmount] = useState('');
  const [programme, setProgramme] = useState('');
  const [active, setActive] = useState(true);
  const [errors, setErrors] = useState<{ name?: string; amount?: string; programme?: string }>({});
  const { busy, error, run } = useAction();

  useEffect(() => {
    if (cur === undefined) return;
    loadCatalogue(cur.code).then(({ activities, programmes: found }) => {
      setProgrammes(found);
      const activity = id === undefined ? undefined : activities.find((a) => a.id === id);
      if (id !== undefined && activity === undefined) {
        setLoadError(new Error('not found'));
        return;
      }
      if (activity !== undefined) {
        setExisting(activity);
        setNameNl(activity.name.nl);
        setNameEn(activity.name.en ?? '');
        setNameFr(activity.name.fr ?? '');
        setCategory(activity.category as Category);
        setPay(activity.rate_per_hour !== null ? 'hour' : 'fixed');
        setAmount(activity.rate_per_hour ?? activity.amount ?? '');
        setProgramme(activity.programme_account);
        setActive(activity.active);
      } else if (found[0] !== undefined) {
        setProgramme(found[0].id);
      }
    }).catch(setLoadError);
  }, [cur?.code, id]);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (cur === undefined) return;
    const value = amountInput(amount, cur.scale);
    const found: typeof errors = {};
    if (nameNl.trim() === '') found.name = t('console.activity_name_missing');
    if (value === undefined) found.amount = t('console.amount_invalid', { scale: cur.scale });
    if (programme === '') found.programme = t('console.activity_programme_missing');
    setErrors(found);
    if (Object.keys(found).length > 0 || value === undefined) return;
    const name = {
      nl: nameNl.trim(),
      ...(nameEn.trim() === '' ? {} : { en: nameEn.trim() }),
      ...(nameFr.trim() === '' ? {} : { fr: nameFr.trim() }),
    };
    const reward = pay === 'hour' ? { rate_per_hour: value } : { amount: value };
    await run(async () => {
      if (existing === undefined) {
        await consoleApi.post('/currencies/{code}/activities', {
          path: { code: cur.code }, body: { name, category, programme_account: programme, ...reward },
        });
      } else {
        await consoleApi.patch('/activities/{id}', {
          path: { id: existing.id }, body: { name, category, programme_account: programme, active, ...reward },
        });
      }
      route('/console/activities');
    });
  };

  const title = id === undefined ? t('console.activity_new') : t('console.activity_edit_title');
  return (
    <ConsolePage title={title} testid="console-activity-form">
      {loadError !== undefined && <ProblemAlert error={loadError} />}
      {cur === undefined ? <p>{t('console.no_currency')}</p> : programmes === undefined ? (loadError === undefined && <Loading />) : (
        <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
          {programmes.length === 0 && (
            <div class="form-wide">
              <Alert kind="warning">
                <p>{t('console.activity_needs_programme')}</p>
                <BtnLink href="/console/ledger" small variant="secondary" icon="book">{t('console.nav_ledger')}</BtnLink>
              </Alert>
            </div>
          )}
          <Field label={t('console.activity_name_nl')} error={errors.name} required>
            {(attrs) => <input {...attrs} type="text" lang="nl" maxLength={200} value={nameNl} data-testid="activity-name-nl" onInput={(e) => setNameNl(e.currentTarget.value)} />}
          </Field>
          <Field label={t('console.activity_category')}>
            {(attrs) => (
              <select {...attrs} value={category} data-testid="activity-category" onChange={(e) => setCategory(e.currentTarget.value as Category)}>
                {activity_categories.map((c) => <option key={c} value={c}>{categoryName(c)}</option>)}
              </select>
            )}
          </Field>
          <Field label={t('console.activity_name_en')} hint={t('console.activity_name_optional')}>
            {(attrs) => <input {...attrs} type="text" lang="en" maxLength={200} value={nameEn} data-testid="activity-name-en" onInput={(e) => setNameEn(e.currentTarget.value)} />}
          </Field>
          <Field label={t('console.activity_name_fr')} hint={t('console.activity_name_optional')}>
            {(attrs) => <input {...attrs} type="text" lang="fr" maxLength={200} value={nameFr} data-testid="activity-name-fr" onInput={(e) => setNameFr(e.currentTarget.value)} />}
          </Field>
          <fieldset class="field form-wide">
            <legend>{t('console.activity_pay')}</legend>
            <div class="radio-row">
              <label class="radio">
                <input type="radio" name="pay" value="hour" checked={pay === 'hour'} data-testid="activity-pay-hour" onChange={() => setPay('hour')} />
                <span>{t('console.activity_pay_hour')}</span>
              </label>
              <label class="radio">
                <input type="radio" name="pay" value="fixed" checked={pay === 'fixed'} data-testid="activity-pay-fixed" onChange={() => setPay('fixed')} />
                <span>{t('console.activity_pay_fixed')}</span>
              </label>
            </div>
          </fieldset>
          <Field label={pay === 'hour' ? t('console.activity_rate', { code: cur.code }) : t('console.activity_amount', { code: cur.code })} error={errors.amount} required>
            {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={amount} data-testid="activity-amount" onInput={(e) => setAmount(e.currentTarget.value)} />}
          </Field>
          <Field label={t('console.activity_programme')} hint={t('console.activity_programme_hint')} error={errors.programme} required>
            {(attrs) => (
              <select {...attrs} value={programme} data-testid="activity-programme" onChange={(e) => setProgramme(e.currentTarget.value)}>
                {programmes.map((p) => <option key={p.id} value={p.id}>{p.name} — {formatAmount(p.available, cur.code)}</option>)}
              </select>
            )}
          </Field>
          {existing !== undefined && (
            <label class="checkbox form-wide">
              <input type="checkbox" checked={active} data-testid="activity-active" onChange={(e) => setActive(e.currentTarget.checked)} />
              <span>{t('console.activity_active')}</span>
            </label>
          )}
          {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="activity-error" /></div>}
          <div class="form-wide button-row">
            <Btn type="submit" icon="check" disabled={busy} data-testid="activity-save">{t('console.save')}</Btn>
            <BtnLink href="/console/activities" variant="ghost" icon="back">{t('console.back_to_activities')}</BtnLink>
          </div>
        </form>
      )}
    </ConsolePage>
  );
}

// Open a session -------------------------------------------------------------------------------------

/** A datetime-local value ("2025-05-01T18:00") for a Date, in the browser's time zone. */
export function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** When and where a session takes place, and whether the agenda shows it, as typed in the form. */
export interface ScheduleValue {
  starts: string;
  ends: string;
  place: string;
  public: boolean;
}

export type ScheduleErrors = { starts?: string; ends?: string };

export function scheduleErrors(value: ScheduleValue): ScheduleErrors {
  const found: ScheduleErrors = {};
  if ((value.public || value.ends !== '') && value.starts === '') found.starts = t('console.session_starts_needed');
  if (value.starts !== '' && value.ends !== '' && new Date(value.ends).getTime() <= new Date(value.starts).getTime()) found.ends = t('console.session_ends_invalid');
  return found;
}

function scheduleBody(value: ScheduleValue) {
  const place = value.place.trim();
  return {
    ...(value.starts === '' ? {} : { starts_at: new Date(value.starts).toISOString() }),
    ...(value.ends === '' ? {} : { ends_at: new Date(value.ends).toISOString() }),
    ...(place === '' ? {} : { place }),
    public: value.public,
  };
}

/** A session's schedule as the form shows it. */
export function scheduleOf(session: { starts_at: string | null; ends_at: string | null; place: string | null; public: boolean }): ScheduleValue {
  return {
    starts: session.starts_at === null ? '' : localInput(new Date(session.starts_at)),
    ends: session.ends_at === null ? '' : localInput(new Date(session.ends_at)),
    place: session.place ?? '',
    public: session.public,
  };
}

/** The session form's time, place and agenda fields (test ids `<testid>-starts`, `-ends`, `-place`, `-public`). */
export function ScheduleFields({ value, errors, onChange, testid = 'session' }: {
  value: ScheduleValue; errors: ScheduleErrors; onChange: (next: ScheduleValue) => void; testid?: string;
}) {
  return (
    <>
      <Field label={t('console.session_starts')} hint={t('console.session_times_hint')} error={errors.starts}>
        {(attrs) => <input {...attrs} type="datetime-local" value={value.starts} data-testid={`${testid}-starts`} onInput={(e) => onChange({ ...value, starts: e.currentTarget.value })} />}
      </Field>
      <Field label={t('console.session_ends')} error={errors.ends}>
        {(attrs) => <input {...attrs} type="datetime-local" value={value.ends} data-testid={`${testid}-ends`} onInput={(e) => onChange({ ...value, ends: e.currentTarget.value })} />}
      </Field>
      <Field label={t('console.session_place')} hint={t('console.session_place_hint')}>
        {(attrs) => <input {...attrs} type="text" maxLength={200} value={value.place} data-testid={`${testid}-place`} onInput={(e) => onChange({ ...value, place: e.currentTarget.value })} />}
      </Field>
      <label class="checkbox form-wide">
        <input type="checkbox" checked={value.public} data-testid={`${testid}-public`} onChange={(e) => onChange({ ...value, public: e.currentTarget.checked })} />
        <span>{t('console.session_public')}</span>
      </label>
    </>
  );
}

/** How long a session's QR works after its end unless the coordinator chooses: the service's default CLAIM_SESSION_TTL_S. */
const after_end_ms = 12 * 3600_000;

/** Hours from now until a datetime-local value, to one decimal ("4", "2.5"); undefined when empty, unreadable or past. */
function hoursUntil(value: string): string | undefined {
  const until = value === '' ? Number.NaN : new Date(value).getTime();
  if (Number.isNaN(until) || until <= Date.now()) return undefined;
  return String(Math.max(0.1, Math.round((until - Date.now()) / 360_000) / 10));
}

/**
 * Opens a claim session. "Valid until" starts 4 hours from now and its hint says how long the QR
 * will work from now, for whatever time is chosen; until it is changed by hand it follows the
 * session's end (12 hours after it, the service's default CLAIM_SESSION_TTL_S). The service's own
 * default is never relied on: the form always sends the time it shows.
 */
export function NewSession() {
  const { params } = useRoute();
  const { route } = useLocation();
  const id = params.id ?? '';
  const cur = currency.value;
  const [activity, setActivity] = useState<Activity | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [hours, setHours] = useState('2');
  const [maxClaims, setMaxClaims] = useState('30');
  const [expires, setExpires] = useState(() => localInput(new Date(Date.now() + 4 * 3600_000)));
  const [expiresTouched, setExpiresTouched] = useState(false);
  const [schedule, setScheduleValue] = useState<ScheduleValue>({ starts: '', ends: '', place: '', public: false });
  const setSchedule = (next: ScheduleValue) => {
    setScheduleValue(next);
    const ends = next.ends === '' ? Number.NaN : new Date(next.ends).getTime();
    if (!expiresTouched && !Number.isNaN(ends)) setExpires(localInput(new Date(ends + after_end_ms)));
  };
  const [errors, setErrors] = useState<ScheduleErrors & { hours?: string; max?: string; expires?: string }>({});
  const { busy, error, run } = useAction();

  useEffect(() => {
    if (cur === undefined) return;
    consoleApi.get('/currencies/{code}/activities', { path: { code: cur.code } }).then((answer) => {
      const found = answer.items.find((a) => a.id === id);
      if (found === undefined) setLoadError(new Error('not found'));
      setActivity(found);
    }).catch(setLoadError);
  }, [cur?.code, id]);

  const per_hour = activity?.rate_per_hour !== null && activity?.rate_per_hour !== undefined;
  const typed_hours = hoursInput(hours);
  const expires_hours = hoursUntil(expires);
  const preview = activity === undefined ? undefined
    : activity.rate_per_hour !== null ? (typed_hours === undefined ? undefined : rewardFor(activity.rate_per_hour, typed_hours))
      : activity.amount ?? undefined;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (activity === undefined) return;
    const found: typeof errors = {};
    const max = Number(maxClaims);
    if (per_hour && (typed_hours === undefined || Number(typed_hours) > 24)) found.hours = t('console.session_hours_invalid');
    if (!Number.isInteger(max) || max < 1 || max > 10_000) found.max = t('console.session_max_invalid');
    const expiry = new Date(expires);
    if (hoursUntil(expires) === undefined) found.expires = t('console.session_expiry_invalid');
    Object.assign(found, scheduleErrors(schedule));
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    await run(async () => {
      const session = await consoleApi.post('/activities/{id}/sessions', {
        path: { id: activity.id },
        body: {
          ...(per_hour && typed_hours !== undefined ? { hours: typed_hours } : {}),
          max_claims: max,
          expires_at: expiry.toISOString(),
          ...scheduleBody(schedule),
        },
      });
      route(`/console/sessions/${session.id}`);
    });
  };

  return (
    <ConsolePage title={activity === undefined ? t('console.session_new_title') : t('console.session_new_for', { name: localizedName(activity.name) })} testid="console-new-session">
      {loadError !== undefined && <ProblemAlert error={loadError} />}
      {cur === undefined ? <p>{t('console.no_currency')}</p> : activity === undefined ? (loadError === undefined && <Loading />) : (
        <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
          <p class="form-wide">{t('console.session_intro')} <strong>{rewardText(activity, cur.code)}</strong></p>
          {per_hour && (
            <Field label={t('console.session_hours')} hint={t('console.session_hours_hint')} error={errors.hours} required>
              {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={hours} data-testid="session-hours" onInput={(e) => setHours(e.currentTarget.value)} />}
            </Field>
          )}
          <Field label={t('console.session_max_claims')} hint={t('console.session_max_claims_hint')} error={errors.max} required>
            {(attrs) => <input {...attrs} type="number" min={1} max={10000} step={1} value={maxClaims} data-testid="session-max-claims" onInput={(e) => setMaxClaims(e.currentTarget.value)} />}
          </Field>
          <Field label={t('console.session_expires')} error={errors.expires} required
            hint={expires_hours === undefined ? t('console.session_expires_hint_empty') : t('console.session_expires_hint', { hours: formatNumber(expires_hours, 1) })}>
            {(attrs) => <input {...attrs} type="datetime-local" value={expires} data-testid="session-expires" onInput={(e) => { setExpires(e.currentTarget.value); setExpiresTouched(true); }} />}
          </Field>
          <ScheduleFields value={schedule} errors={errors} onChange={setSchedule} />
          {preview !== undefined && (
            <p class="form-wide reward-preview" data-testid="session-reward-preview" data-amount={preview}>
              {t('console.session_reward_preview', { amount: formatAmount(preview, cur.code) })}
            </p>
          )}
          {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="session-error" /></div>}
          <div class="form-wide button-row">
            <Btn type="submit" icon="qr" disabled={busy} data-testid="session-create">{t('console.session_create')}</Btn>
            <BtnLink href="/console/activities" variant="ghost" icon="back">{t('console.back_to_activities')}</BtnLink>
          </div>
        </form>
      )}
    </ConsolePage>
  );
}
