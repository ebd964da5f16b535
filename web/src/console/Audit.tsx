import { useEffect, useState } from 'preact/hooks';
import { consoleApi } from '../api.js';
import { formatDate, t, tMaybe } from '../i18n/index.js';
import { usePagedList } from '../lib/paging.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Btn, Field, ShortId } from './ui.js';
import { currency, isAdmin } from './state.js';
import type { AuditEntry } from './state.js';

const page_size = 50;

interface Filter { action: string; object: string; actor: string; from: string; to: string; all: boolean }
const empty: Filter = { action: '', object: '', actor: '', from: '', to: '', all: false };

/** A local day (YYYY-MM-DD from a date input) as the ISO instant of its start, or of the next day's start. */
function dayBound(day: string, end: boolean): string | undefined {
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(day)) return undefined;
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d + (end ? 1 : 0)).toISOString();
}

function actorText(entry: AuditEntry): string {
  return tMaybe(`console.actor_${entry.actor.kind}`) ?? entry.actor.kind;
}

export function AuditLog() {
  const cur = currency.value;
  const [typed, setTyped] = useState<Filter>(empty);
  const [filter, setFilter] = useState<Filter>(empty);
  const [actionError, setActionError] = useState<string | undefined>(undefined);
  const list = usePagedList((cursor) => {
    const query = {
      limit: page_size,
      cursor,
      action: filter.action === '' ? undefined : filter.action,
      object: filter.object === '' ? undefined : filter.object,
      actor: filter.actor === '' ? undefined : filter.actor,
      from: dayBound(filter.from, false),
      to: dayBound(filter.to, true),
    };
    return filter.all
      ? consoleApi.get('/audit-log', { query })
      : consoleApi.get('/currencies/{code}/audit-log', { path: { code: cur?.code ?? '' }, query });
  });
  const { items, error } = list;
  // Only the console-wide log can be read without a currency.
  const load = async () => {
    if (cur !== undefined || filter.all) await list.reload();
  };
  useEffect(() => { void load(); }, [cur?.code, filter]);

  const set = (field: keyof Filter) => (event: Event) => {
    const target = event.currentTarget as HTMLInputElement;
    setTyped({ ...typed, [field]: target.type === 'checkbox' ? target.checked : target.value });
  };

  return (
    <ConsolePage title={t('console.audit_title')} testid="console-audit">
      <p class="lead">{t('console.audit_intro')}</p>
      <form class="filters" onSubmit={(event) => {
        event.preventDefault();
        const action = typed.action.trim().toLowerCase();
        if (action !== '' && !/^[a-z_]+(\.[a-z_]+)*$/.test(action)) {
          setActionError(t('console.audit_action_invalid'));
          return;
        }
        setActionError(undefined);
        list.clear();
        setFilter({ ...typed, action, object: typed.object.trim(), actor: typed.actor.trim() });
      }}>
        <Field label={t('console.audit_action')} hint={t('console.audit_action_hint')} error={actionError}>
          {(attrs) => <input {...attrs} type="text" value={typed.action} data-testid="audit-filter-action" onInput={set('action')} />}
        </Field>
        <Field label={t('console.audit_object')} hint={t('console.audit_id_hint')}>
          {(attrs) => <input {...attrs} type="text" class="mono" value={typed.object} data-testid="audit-filter-object" onInput={set('object')} />}
        </Field>
        <Field label={t('console.audit_actor')} hint={t('console.audit_id_hint')}>
          {(attrs) => <input {...attrs} type="text" class="mono" value={typed.actor} data-testid="audit-filter-actor" onInput={set('actor')} />}
        </Field>
        <Field label={t('console.audit_from')}>
          {(attrs) => <input {...attrs} type="date" value={typed.from} data-testid="audit-filter-from" onInput={set('from')} />}
        </Field>
        <Field label={t('console.audit_to')}>
          {(attrs) => <input {...attrs} type="date" value={typed.to} data-testid="audit-filter-to" onInput={set('to')} />}
        </Field>
        {isAdmin.value && (
          <label class="checkbox">
            <input type="checkbox" checked={typed.all} data-testid="audit-filter-all" onChange={set('all')} />
            <span>{t('console.audit_all')}</span>
          </label>
        )}
        <div class="button-row">
          <Btn type="submit" icon="search" data-testid="audit-filter-apply">{t('console.audit_apply')}</Btn>
          <Btn variant="ghost" icon="x" onClick={() => {
            setTyped(empty);
            setFilter(empty);
          }}>{t('console.audit_clear')}</Btn>
        </div>
      </form>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} />}
      {items === undefined ? (error === undefined && <Loading />) : items.length === 0 ? (
        <p class="muted" data-testid="audit-empty">{t('console.audit_none')}</p>
      ) : (
        <div class="table-wrap">
          <table class="table table-audit" data-testid="audit-list">
            <thead>
              <tr>
                <th scope="col">{t('console.col_date')}</th>
                <th scope="col">{t('console.audit_actor')}</th>
                <th scope="col">{t('console.audit_action')}</th>
                <th scope="col">{t('console.audit_object')}</th>
                <th scope="col">{t('console.audit_changes')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((entry) => (
                <tr key={entry.id} data-testid="audit-row" data-action={entry.action}>
                  <td class="nowrap"><time dateTime={entry.at}>{formatDate(entry.at, 'short')}</time></td>
                  <td>{actorText(entry)}{entry.actor.id !== null && <> <ShortId id={entry.actor.id} /></>}</td>
                  <td><code>{entry.action}</code></td>
                  <td>{entry.object === null ? '—' : <>{entry.object.kind} <ShortId id={entry.object.id} /></>}</td>
                  <td>
                    {Object.keys(entry.changes).length === 0 ? '—' : (
                      <details>
                        <summary>{t('console.audit_show_changes', { count: Object.keys(entry.changes).length })}</summary>
                        <pre>{JSON.stringify(entry.changes, null, 2)}</pre>
                      </details>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasMore && <Btn variant="secondary" icon="refresh" onClick={() => void list.more()} data-testid="audit-more">{t('console.load_more')}</Btn>}
    </ConsolePage>
  );
}
