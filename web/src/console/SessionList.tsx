import { useEffect, useState } from 'preact/hooks';
import { consoleApi } from '../api.js';
import { formatAmount, formatDate, localizedName, t } from '../i18n/index.js';
import { formatHours } from '../lib/hours.js';
import { useAction } from '../lib/action.js';
import { usePagedList } from '../lib/paging.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { Btn, BtnLink, ConfirmDialog } from './ui.js';
import type { SessionListItem } from './state.js';

const page_size = 20;

/** A session to end: its id and its activity's name in the console's language. */
interface Ending { id: string; name: string }

/**
 * Asks to end a running claim session now and ends it (POST /sessions/{id}/close): its QR
 * rewards no one any more, on every device. Open while `ending` is set.
 */
function EndSessionDialog({ ending, onClose, onEnded }: { ending: Ending | undefined; onClose: () => void; onEnded: () => void }) {
  const { busy, error, run, reset } = useAction();
  useEffect(() => reset(), [ending?.id]);
  const end = async () => {
    if (ending === undefined) return;
    const ended = await run(async () => {
      await consoleApi.post('/sessions/{id}/close', { path: { id: ending.id } });
    });
    if (ended) {
      onClose();
      onEnded();
    }
  };
  return (
    <ConfirmDialog
      open={ending !== undefined} title={t('console.session_end_title')} confirmLabel={t('console.session_end_confirm')} confirmIcon="ban"
      danger busy={busy} onCancel={onClose} onConfirm={() => void end()} testid="session-end-dialog"
    >
      <p>{t('console.session_end_body', { name: ending?.name ?? '' })}</p>
      {error !== undefined && <ProblemAlert error={error} testid="session-end-error" />}
    </ConfirmDialog>
  );
}

function EndButton({ small = false, onClick }: { small?: boolean; onClick: () => void }) {
  return <Btn small={small} variant="secondary" icon="ban" data-testid="session-end" onClick={onClick}>{t('console.session_end')}</Btn>;
}

/** "End now" for one running claim session, after a confirmation; `onEnded` follows the server's answer. */
export function EndSession({ id, name, onEnded }: Ending & { onEnded: () => void }) {
  const [ending, setEnding] = useState<Ending | undefined>(undefined);
  return (
    <>
      <EndButton onClick={() => setEnding({ id, name })} />
      <EndSessionDialog ending={ending} onClose={() => setEnding(undefined)} onEnded={onEnded} />
    </>
  );
}

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
 * (`open`), each with its QR, event mode and "end now", or the ended ones. Every device sees the
 * same list. It reads again when `revision` changes; `onEnded` says a session was ended here.
 */
export function SessionList({ code, open, revision = 0, onEnded }: { code: string; open: boolean; revision?: number; onEnded?: () => void }) {
  const list = usePagedList((cursor) => consoleApi.get('/currencies/{code}/sessions', {
    path: { code }, query: { open: open ? 'true' : 'false', limit: page_size, cursor },
  }));
  const { items, error, reload } = list;
  const [ending, setEnding] = useState<Ending | undefined>(undefined);
  useEffect(() => { void reload(); }, [code, open, revision]);

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
                <EndButton small onClick={() => setEnding({ id: s.id, name: localizedName(s.activity_name) })} />
              </span>
            )}
          </li>
        ))}
      </ul>
      {error !== undefined && <ProblemAlert error={error} />}
      {list.hasMore && (
        <Btn variant="secondary" icon="refresh" disabled={list.loadingMore} onClick={() => void list.more()} data-testid="sessions-more">{t('console.load_more')}</Btn>
      )}
      {open && (
        <EndSessionDialog ending={ending} onClose={() => setEnding(undefined)} onEnded={() => (onEnded === undefined ? void reload() : onEnded())} />
      )}
    </>
  );
}
