import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { ApiError, consoleApi } from '../api.js';
import { formatAmount, formatDate, localizedName, t } from '../i18n/index.js';
import { formatHours } from '../lib/hours.js';
import { groupCardCode, mistypedCardCode, parseScanned } from '../lib/links.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert, problemText } from '../ui/problem.js';
import { QrCode } from '../ui/QrCode.js';
import { Scanner } from '../ui/Scanner.js';
import { ConsolePage } from './Shell.js';
import { Btn, BtnLink, CIcon, Field, Panel } from './ui.js';
import { currency, hoursInput } from './state.js';
import type { Activity, ActivitySession } from './state.js';
import { ScheduleFields, rewardFor, rewardText, scheduleErrors, scheduleOf } from './Activities.js';
import type { ScheduleErrors, ScheduleValue } from './Activities.js';
import { useAction } from '../lib/action.js';
import { Alert } from '../ui/Alert.js';
import { compare, subtract } from '../lib/money.js';
import type { ResponseOf } from '../api.js';
import { EndSession, SessionList } from './SessionList.js';

const refresh_ms = 10_000;

/** A session and its activity (named in the current language). */
function useSession(id: string) {
  const cur = currency.value;
  const [session, setSession] = useState<ActivitySession | undefined>(undefined);
  const [activity, setActivity] = useState<Activity | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const load = async () => {
    try {
      const found = await consoleApi.get('/sessions/{id}', { path: { id } });
      setSession(found);
      setError(undefined);
      if (activity === undefined && cur !== undefined) {
        const list = await consoleApi.get('/currencies/{code}/activities', { path: { code: cur.code } });
        setActivity(list.items.find((a) => a.id === found.activity));
      }
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), refresh_ms);
    return () => clearInterval(timer);
  }, [id, cur?.code]);
  return { session, activity, error, reload: load, code: cur?.code ?? '' };
}

/** The claim QR over the whole screen, big enough to scan from a few metres; Escape closes it. */
function QrFullscreen({ session, title, reward, onClose }: { session: ActivitySession; title: string; reward: string; onClose: () => void }) {
  const heading = useId();
  const close = useRef<HTMLButtonElement>(null);
  const overlay = useRef<HTMLDivElement>(null);
  const [size, setSize] = useState(() => Math.max(240, Math.min(window.innerWidth - 48, window.innerHeight - 290)));
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    close.current?.focus();
    overlay.current?.requestFullscreen?.().catch(() => {});
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape') onClose();
      if (event.key === 'Tab') {
        // The only control is the close button: keep focus on it.
        event.preventDefault();
        close.current?.focus();
      }
    };
    const onResize = () => setSize(Math.max(240, Math.min(window.innerWidth - 48, window.innerHeight - 290)));
    window.addEventListener('keydown', onKey);
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('resize', onResize);
      if (document.fullscreenElement !== null) void document.exitFullscreen().catch(() => {});
      before?.focus();
    };
  }, []);
  return (
    <div ref={overlay} class="qr-fullscreen" role="dialog" aria-modal="true" aria-labelledby={heading} data-testid="qr-fullscreen">
      <div class="qr-fullscreen-head">
        <h2 id={heading}>{title}</h2>
        <p class="qr-fullscreen-reward">{reward}</p>
      </div>
      <QrCode text={session.claim_url} size={size} label={t('console.claim_qr_label', { name: title })} testid="claim-qr-fullscreen" />
      <p class="qr-fullscreen-hint">{t('console.claim_qr_hint')}</p>
      <button ref={close} type="button" class="btn btn-secondary" onClick={onClose} data-testid="qr-fullscreen-close">
        <CIcon name="x" />
        <span>{t('common.close')}</span>
      </button>
    </div>
  );
}

/** The claim sessions of every device: the running ones with their QR and event mode, then the ended ones. */
export function Sessions() {
  const cur = currency.value;
  /** Counts the sessions ended here: both lists read again, the ended one moves down. */
  const [revision, setRevision] = useState(0);
  const ended = () => setRevision((n) => n + 1);
  return (
    <ConsolePage title={t('console.sessions_title')} testid="console-sessions"
      actions={<BtnLink href="/console/activities" variant="secondary" icon="play">{t('console.session_start')}</BtnLink>}>
      <p class="lead">{t('console.sessions_intro')}</p>
      {cur === undefined ? <p>{t('console.no_currency')}</p> : (
        <>
          <Panel title={t('console.sessions_open')} icon="qr" testid="sessions-open">
            <SessionList code={cur.code} open revision={revision} onEnded={ended} />
          </Panel>
          <Panel title={t('console.sessions_ended')} icon="clock" testid="sessions-ended">
            <SessionList code={cur.code} open={false} revision={revision} />
          </Panel>
        </>
      )}
    </ConsolePage>
  );
}

/** Changes when and where a session takes place, and whether the agenda shows it (PATCH /sessions/{id}). */
function ScheduleEdit({ session, onSaved }: { session: ActivitySession; onSaved: () => void }) {
  const [value, setValue] = useState<ScheduleValue>(() => scheduleOf(session));
  const [errors, setErrors] = useState<ScheduleErrors>({});
  const { busy, error, done, run } = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    const found = scheduleErrors(value);
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    const place = value.place.trim();
    await run(async () => {
      await consoleApi.patch('/sessions/{id}', {
        path: { id: session.id },
        body: {
          starts_at: value.starts === '' ? null : new Date(value.starts).toISOString(),
          ends_at: value.ends === '' ? null : new Date(value.ends).toISOString(),
          place: place === '' ? null : place, public: value.public,
        },
      });
      onSaved();
      return t('console.saved');
    });
  };
  return (
    <Panel title={t('console.session_schedule')} icon="clock" testid="session-schedule">
      {done !== undefined && <Alert kind="success" data-testid="session-edit-saved">{done}</Alert>}
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <ScheduleFields value={value} errors={errors} onChange={setValue} testid="session-edit" />
        {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="session-edit-error" /></div>}
        <div class="form-wide"><Btn type="submit" icon="check" disabled={busy} data-testid="session-edit-save">{t('console.save')}</Btn></div>
      </form>
    </Panel>
  );
}

export function SessionView() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const { session, activity, error, reload, code } = useSession(id);
  const [full, setFull] = useState(false);
  const name = activity === undefined ? '' : localizedName(activity.name);
  const expired = session !== undefined && new Date(session.expires_at).getTime() <= Date.now();
  const ended = session !== undefined && session.closed_at !== null;
  const reward = session === undefined ? '' : t('console.claim_reward', { amount: formatAmount(session.reward, code) });

  return (
    <ConsolePage title={activity === undefined ? t('console.session_title') : name} testid="console-session"
      actions={<BtnLink href="/console/sessions" variant="ghost" icon="back">{t('console.sessions_all')}</BtnLink>}>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void reload()} />}
      {session === undefined ? (error === undefined && <Loading />) : (
        <div class="session-grid">
          <div class="session-qr">
            {ended
              ? <p class="session-ended-note" data-testid="session-ended-note">{t('console.session_ended_note')}</p>
              : <QrCode text={session.claim_url} size={420} label={t('console.claim_qr_label', { name })} testid="claim-qr" />}
            <p class="session-reward" data-testid="session-reward" data-amount={session.reward}>{reward}</p>
          </div>
          <div class="stack">
            <dl class="facts" data-testid="session-facts">
              {activity !== undefined && <div><dt>{t('console.col_reward')}</dt><dd>{rewardText(activity, code)}</dd></div>}
              {session.hours !== null && <div><dt>{t('console.session_hours')}</dt><dd data-testid="session-hours-value">{formatHours(session.hours)}</dd></div>}
              <div>
                <dt>{t('console.session_claims')}</dt>
                <dd data-testid="session-claims" data-count={session.claims_count}>{t('console.session_claims_of', { count: session.claims_count, max: session.max_claims })}</dd>
              </div>
              {session.starts_at !== null && (
                <div>
                  <dt>{t('console.session_when')}</dt>
                  <dd data-testid="session-when">
                    {formatDate(session.starts_at, 'datetime')}{session.ends_at !== null && ` – ${formatDate(session.ends_at, 'datetime')}`}
                  </dd>
                </div>
              )}
              {session.place !== null && <div><dt>{t('console.session_place')}</dt><dd data-testid="session-place">{session.place}</dd></div>}
              <div>
                <dt>{t('console.session_expires')}</dt>
                <dd data-testid="session-state" data-state={ended ? 'ended' : expired ? 'expired' : 'open'}>
                  {session.closed_at !== null
                    ? <strong class="text-bad">{t('console.session_ended_at', { time: formatDate(session.closed_at, 'datetime') })}</strong>
                    : expired ? <strong class="text-bad">{t('console.session_expired')}</strong> : formatDate(session.expires_at, 'datetime')}
                </dd>
              </div>
            </dl>
            {session.public && <p data-testid="session-on-agenda"><CIcon name="check" /> {t('console.session_on_agenda')}</p>}
            <p>{t('console.session_how')}</p>
            <Btn icon="expand" onClick={() => setFull(true)} disabled={expired || ended} data-testid="session-fullscreen">{t('console.session_fullscreen')}</Btn>
            <BtnLink icon="scan" variant="secondary" href={`/console/sessions/${session.id}/event`} data-testid="event-mode">{t('console.event_mode')}</BtnLink>
            <p class="hint">{t('console.event_mode_hint')}</p>
            {!expired && !ended && <EndSession id={session.id} name={name} onEnded={() => void reload()} />}
          </div>
        </div>
      )}
      {session !== undefined && session.closed_at === null && <ScheduleEdit key={session.id} session={session} onSaved={() => void reload()} />}
      {full && session !== undefined && <QrFullscreen session={session} title={name} reward={reward} onClose={() => setFull(false)} />}
    </ConsolePage>
  );
}

// Event mode -------------------------------------------------------------------------------------------

type EarningRoom = NonNullable<ResponseOf<'/wallets/{id}', 'get'>['earning_room']>;

interface AwardRow {
  n: number;
  card: string;
  at: Date;
  status: 'pending' | 'ok' | 'error';
  name?: string;
  amount?: string;
  code?: string;
  message?: string;
  /** What the volunteer may still earn, read before the award (after it, once given). */
  room?: EarningRoom;
}

/**
 * The volunteer of a scanned card and the room left under the caps, read before awarding;
 * undefined when the card names no volunteer (the award then says why).
 */
async function volunteerOf(code: string, card: string): Promise<{ name: string; room: EarningRoom | null } | undefined> {
  const found = await consoleApi.get('/currencies/{code}/wallets', { path: { code }, query: { q: card, limit: 1 } });
  const hit = found.items.find((w) => w.card?.code === card);
  if (hit === undefined) return undefined;
  const wallet = await consoleApi.get('/wallets/{id}', { path: { id: hit.account } });
  return { name: wallet.display_name, room: wallet.earning_room };
}

/** The smaller of the day's and the year's room, or undefined without caps. */
function roomLeft(room: EarningRoom): string | undefined {
  const left = [room.day, room.year].filter((v): v is string => v !== null);
  return left.sort(compare)[0];
}

/** The room after `amount` was earned (never below 0). */
function roomAfter(room: EarningRoom, amount: string): EarningRoom {
  const less = (v: string | null) => (v === null ? null : compare(v, amount) <= 0 ? subtract(v, v) : subtract(v, amount));
  return { ...room, day: less(room.day), year: less(room.year) };
}

function RoomText({ room, code }: { room: EarningRoom; code: string }) {
  const parts = [
    ...(room.day === null ? [] : [t('console.room_day', { amount: formatAmount(room.day, code) })]),
    ...(room.year === null ? [] : [t('console.room_year', { amount: formatAmount(room.year, code) })]),
  ];
  return (
    <span class="award-room muted" data-testid="award-room" data-day={room.day ?? ''} data-year={room.year ?? ''}>
      {' '}{t('console.room_title')}: {parts.join(' · ')}
    </span>
  );
}

function awardError(error: unknown, code: string): string {
  const extra = error instanceof ApiError ? error.extra : {};
  const left = typeof extra.left === 'string' ? formatAmount(extra.left, code) : '';
  return problemText(error, {
    already_claimed: t('console.award_already'),
    card_locked: t('console.award_locked'),
    card_replaced: t('console.award_blocked'),
    volunteer_cap_exceeded: extra.period === 'year' ? t('console.award_cap_year', { left }) : t('console.award_cap_day', { left }),
    session_full: t('console.award_full'),
    expired: t('console.award_expired'),
    not_found: t('console.award_unknown_card'),
    wrong_currency: t('console.award_wrong_currency'),
    insufficient_funds: t('console.award_no_budget'),
    balance_max_exceeded: t('console.award_wallet_full'),
    account_frozen: t('console.award_frozen'),
    card_code_typo: t('common.errors.card_code_typo'),
  });
}

export function EventMode() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const { session, activity, error, reload, code } = useSession(id);
  const [rows, setRows] = useState<AwardRow[]>([]);
  const [hours, setHours] = useState<string | undefined>(undefined);
  const counter = useRef(0);
  const per_hour = activity?.rate_per_hour !== null && activity?.rate_per_hour !== undefined;
  const hours_value = hours ?? session?.hours ?? '';
  const typed_hours = hoursInput(hours_value);

  const update = (n: number, changes: Partial<AwardRow>) =>
    setRows((current) => current.map((row) => (row.n === n ? { ...row, ...changes } : row)));

  const award = async (text: string) => {
    const scanned = parseScanned(text);
    // A code with one wrong character goes to the server too: it answers card_code_typo ("check the code").
    const card = scanned.kind === 'card' ? scanned.code : mistypedCardCode(text);
    counter.current += 1;
    const n = counter.current;
    if (card === undefined) {
      setRows((current) => [{ n, card: text.slice(0, 40), at: new Date(), status: 'error', code: 'not_a_card', message: t('console.award_not_a_card') }, ...current]);
      return;
    }
    setRows((current) => [{ n, card, at: new Date(), status: 'pending' }, ...current]);
    const reward = per_hour && typed_hours !== undefined && activity?.rate_per_hour ? rewardFor(activity.rate_per_hour, typed_hours) : session?.reward;
    try {
      const volunteer = await volunteerOf(code, card);
      const room = volunteer?.room ?? undefined;
      const left = room === undefined ? undefined : roomLeft(room);
      if (volunteer !== undefined && room !== undefined) update(n, { name: volunteer.name, room });
      if (volunteer !== undefined && left !== undefined && reward !== undefined && compare(reward, left) > 0) {
        const message = t('console.award_over_room', { name: volunteer.name, left: formatAmount(left, code), amount: formatAmount(reward, code) });
        update(n, { status: 'error', code: 'volunteer_cap_exceeded', message });
        return;
      }
      const answer = await consoleApi.post('/sessions/{id}/awards', {
        path: { id },
        body: { card, ...(per_hour && typed_hours !== undefined && typed_hours !== session?.hours ? { hours: typed_hours } : {}) },
        idempotent: `award:${id}:${card}`,
      });
      update(n, { status: 'ok', name: answer.volunteer.display_name, amount: answer.amount, ...(room === undefined ? {} : { room: roomAfter(room, answer.amount) }) });
      void reload();
    } catch (caught) {
      update(n, { status: 'error', code: caught instanceof ApiError ? caught.code : 'unknown', message: awardError(caught, code) });
    }
  };

  const done = rows.filter((r) => r.status === 'ok').length;
  const last = rows[0];
  const name = activity === undefined ? '' : localizedName(activity.name);

  return (
    <ConsolePage title={t('console.event_title', { name })} testid="console-event"
      actions={<BtnLink href={`/console/sessions/${id}`} variant="ghost" icon="qr">{t('console.session_show_qr')}</BtnLink>}>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void reload()} />}
      {session === undefined ? (error === undefined && <Loading />) : (
        <div class="event-grid">
          <div class="stack">
            <p>{t('console.event_intro')}</p>
            {per_hour && (
              <Field label={t('console.event_hours')} hint={t('console.event_hours_hint')} error={typed_hours === undefined ? t('console.session_hours_invalid') : undefined}>
                {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={hours_value} data-testid="event-hours" onInput={(e) => setHours(e.currentTarget.value)} />}
              </Field>
            )}
            <Scanner onResult={(text) => void award(text)} manualLabel={t('console.event_manual')} manualPlaceholder="K7QM-3D9X-P2RT-8HWV-Z" />
          </div>
          <div class="stack">
            <div class={`event-last event-last-${last?.status ?? 'none'}`} data-testid="event-last" data-status={last?.status ?? 'none'} aria-live="assertive">
              {last === undefined && <p>{t('console.event_waiting')}</p>}
              {last?.status === 'pending' && <p>{t('console.event_pending', { card: groupCardCode(last.card) })}</p>}
              {last?.status === 'ok' && (
                <p>
                  <CIcon name="check" size={32} />
                  <span>{t('console.event_ok', { name: last.name ?? '', amount: formatAmount(last.amount ?? '0', code) })}</span>
                </p>
              )}
              {last?.status === 'error' && (
                <p>
                  <CIcon name="alert" size={32} />
                  <span>{last.message}</span>
                </p>
              )}
              {last?.room !== undefined && <p class="event-room"><RoomText room={last.room} code={code} /></p>}
            </div>
            <Panel title={t('console.event_list', { count: done })} icon="list" testid="award-list">
              <p class="hint" data-testid="award-count" data-count={done}>
                {t('console.session_claims_of', { count: session.claims_count, max: session.max_claims })}
              </p>
              {rows.length === 0 ? <p class="muted">{t('console.event_none')}</p> : (
                <ol class="award-list" reversed>
                  {rows.map((row) => (
                    <li key={row.n} class={`award award-${row.status}`} data-testid="award-row" data-status={row.status} data-code={row.code} data-card={row.card}>
                      <CIcon name={row.status === 'ok' ? 'check' : row.status === 'error' ? 'alert' : 'clock'} />
                      <span class="award-text">
                        {row.status === 'ok' && <strong data-testid="award-name">{row.name}</strong>}
                        {row.status === 'ok' && <span> · {formatAmount(row.amount ?? '0', code)}</span>}
                        {row.status === 'error' && <span>{row.message}</span>}
                        {row.status === 'pending' && <span>{t('common.loading')}</span>}
                        {row.room !== undefined && <RoomText room={row.room} code={code} />}
                        <span class="muted award-meta"> {row.code === 'not_a_card' ? row.card : groupCardCode(row.card)} · {formatDate(row.at, 'time')}</span>
                      </span>
                    </li>
                  ))}
                </ol>
              )}
            </Panel>
          </div>
        </div>
      )}
    </ConsolePage>
  );
}
