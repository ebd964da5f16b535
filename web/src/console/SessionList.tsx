import { useEffect } from 'preact/hooks';
import { consoleApi } from '../api.js';
import { formatAmount, formatDate, localizedName, t } from '../i18n/index.js';
import { formatHours } from '../lib/hours.js';
import { usePagedList } from '../lib/paging.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { Btn, BtnLink } from './ui.js';
import type { SessionListItem } from './state.js';

const page_size = 20;

/** What a row says of a session: the reward each, the hours, the claims so far, until when. */
function SessionFacts({ session, code }: { session: SessionListItem; code: string }) {
  const until = session.closed_at ?? session.expires_at;
  return (
    <span class="muted">
      {t('console.session_each', { amount: formatAmount(session.reward, code) })}
      {session.hours !== null && <> · <span data-testid="session-row-hours">{formatHours(session.hours)}</span></>}
      {' · '}
      <span data-testid="session-row-claims" data-count={session.claims_count}>
        {t('console.session_claims_of', { count: session.claims_count, max: session.max_claims })}
      </span>
      {' · '}
      <time dateTime={until}>
        {session.open
          ? t('console.session_valid_until', { time: formatDate(until, 'datetime') })
          : t('console.session_ran_until', { time: formatDate(until, 'datetime') })}
      </time>
    </span>
  );
}

/**
 * The claim sessions of the currency `code` from the server, newest first: the running ones
 * (`open`), each with its QR and event mode, or the ended ones. Every device sees the same list.
 */
export function SessionList({ code, open }: { code: string; open: boolean }) {
  const list = usePagedList((cursor) => consoleApi.get('/currencies/{code}/sessions', {
    path: { code }, query: { open: open ? 'true' : 'false', limit: page_size, cursor },
  }));
  const { items, error, reload } = list;
  useEffect(() => { void reload(); }, [code, open]);

  if (error !== undefined && items === undefined) return <ProblemAlert error={error} onRetry={() => void reload()} />;
  if (items === undefined) return <Loading />;
  if (items.length === 0) {
    return <p class="muted" data-testid="sessions-none" data-open={String(open)}>{open ? t('console.sessions_open_none') : t('console.sessions_ended_none')}</p>;
  }
  return (
    <>
      <ul class="plain-list" data-testid="session-list" data-open={String(open)}>
        {items.map((s) => (
          <li key={s.id} data-testid="session-row" data-id={s.id} data-open={String(s.open)}>
            <span>
              <strong data-testid="session-row-name">{localizedName(s.activity_name)}</strong>
              <br />
              <SessionFacts session={s} code={code} />
            </span>
            {s.open && (
              <span class="button-row">
                <BtnLink small variant="secondary" icon="qr" href={`/console/sessions/${s.id}`} data-testid="session-row-qr">{t('console.session_show_qr')}</BtnLink>
                <BtnLink small variant="secondary" icon="scan" href={`/console/sessions/${s.id}/event`} data-testid="session-row-event">{t('console.event_mode')}</BtnLink>
              </span>
            )}
          </li>
        ))}
      </ul>
      {error !== undefined && <ProblemAlert error={error} />}
      {list.hasMore && (
        <Btn variant="secondary" icon="refresh" disabled={list.loadingMore} onClick={() => void list.more()} data-testid="sessions-more">{t('console.load_more')}</Btn>
      )}
    </>
  );
}
