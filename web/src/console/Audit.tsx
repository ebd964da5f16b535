import { useEffect, useState } from 'preact/hooks';
import { consoleApi } from '../api.js';
import { formatDate, intlTag, t, tMaybe } from '../i18n/index.js';
import { nl } from '../i18n/nl.js';
import { usePagedList } from '../lib/paging.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Btn, Field, ShortId } from './ui.js';
import { currency, isAdmin } from './state.js';
import type { AuditEntry } from './state.js';

const page_size = 50;

interface Filter { action: string; name: string; object: string; actor: string; from: string; to: string; all: boolean }
const empty: Filter = { action: '', name: '', object: '', actor: '', from: '', to: '', all: false };
/** The shortest name the server searches by (`?name=`). */
const name_length_min = 2;

/** A local day (YYYY-MM-DD from a date input) as the ISO instant of its start, or of the next day's start. */
function dayBound(day: string, end: boolean): string | undefined {
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(day)) return undefined;
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d + (end ? 1 : 0)).toISOString();
}

/**
 * The actions the service records, per object (`<object>.<what happened>`), from the reference
 * dictionary: test/console-labels.test.ts keeps its `audit_actions` equal to the service's list.
 */
const action_families = Object.entries(nl.console.audit_actions).map(([family, verbs]) => ({
  family, actions: Object.keys(verbs).map((verb) => `${family}.${verb}`),
}));

/** An action in the console's language; one an earlier version recorded and no longer lists, as its code. */
export function actionText(action: string): string {
  return tMaybe(`console.audit_actions.${action}`) ?? action;
}

function actorText(entry: AuditEntry): string {
  return tMaybe(`console.actor_${entry.actor.kind}`) ?? entry.actor.kind;
}

/** Who or what, in words: the kind, the name when the service knows it, and the id in short. */
function Named({ kind, name, id, testid }: { kind: string; name: string | null; id: string | null; testid: string }) {
  return (
    <span data-testid={testid}>
      {kind}
      {name !== null && <> <strong>{name}</strong></>}
      {id !== null && <> <ShortId id={id} /></>}
    </span>
  );
}

/** The action filter: every action, or all of one object's, or one action; in the console's language. */
function ActionSelect({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const families = action_families
    .map((f) => ({ ...f, label: tMaybe(`console.audit_families.${f.family}`) ?? f.family }))
    .sort((a, b) => a.label.localeCompare(b.label, intlTag.value));
  return (
    <Field label={t('console.audit_action')}>
      {(attrs) => (
        <select {...attrs} value={value} data-testid="audit-filter-action" onChange={(event) => onChange(event.currentTarget.value)}>
          <option value="">{t('console.audit_action_any')}</option>
          {families.map((f) => (
            <optgroup key={f.family} label={f.label}>
              <option value={f.family}>{t('console.audit_family_any', { family: f.label })}</option>
              {f.actions.map((action) => <option key={action} value={action}>{actionText(action)}</option>)}
            </optgroup>
          ))}
        </select>
      )}
    </Field>
  );
}

export function AuditLog() {
  const cur = currency.value;
  const [typed, setTyped] = useState<Filter>(empty);
  const [filter, setFilter] = useState<Filter>(empty);
  const [nameError, setNameError] = useState<string | undefined>(undefined);
  const list = usePagedList((cursor) => {
    const query = {
      limit: page_size,
      cursor,
      action: filter.action === '' ? undefined : filter.action,
      name: filter.name === '' ? undefined : filter.name,
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
        const name = typed.name.trim();
        if (name !== '' && [...name].length < name_length_min) {
          setNameError(t('console.audit_name_short'));
          return;
        }
        setNameError(undefined);
        list.clear();
        setFilter({ ...typed, name, object: typed.object.trim(), actor: typed.actor.trim() });
      }}>
        <ActionSelect value={typed.action} onChange={(action) => setTyped({ ...typed, action })} />
        <Field label={t('console.audit_name')} hint={t('console.audit_name_hint')} error={nameError}>
          {(attrs) => <input {...attrs} type="text" value={typed.name} maxLength={100} data-testid="audit-filter-name" onInput={set('name')} />}
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
            setNameError(undefined);
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
                  <td><Named kind={actorText(entry)} name={entry.actor.name} id={entry.actor.id} testid="audit-actor" /></td>
                  <td data-testid="audit-action">{actionText(entry.action)}</td>
                  <td>
                    {entry.object === null ? '—' : (
                      <Named kind={tMaybe(`console.audit_objects.${entry.object.kind}`) ?? entry.object.kind} name={entry.object.name}
                        id={entry.object.id} testid="audit-object" />
                    )}
                  </td>
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
