import { useEffect, useId, useState } from 'preact/hooks';
import { ApiError, consoleApi } from '../api.js';
import { formatAmount, formatDate, localizedName, t, tMaybe } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { usePagedList } from '../lib/paging.js';
import { Alert } from '../ui/Alert.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { Amount, Btn, ConfirmDialog, Field, StatusTag, accountName } from './ui.js';
import { amountInput, currencies } from './state.js';
import type { Entry } from './state.js';

const page_size = 25;

/** The activity of a reward and the memo, without saying the same name twice; who paid for whom. */
function describe(entry: Entry): string {
  const activity = entry.activity == null ? undefined : localizedName(entry.activity.name);
  const memo = entry.memo ?? undefined;
  const same = memo !== undefined && entry.activity != null && Object.values(entry.activity.name).includes(memo);
  const on_behalf = entry.on_behalf == null ? undefined
    : t('console.paid_by_for', { helper: entry.on_behalf.helper.name, volunteer: entry.on_behalf.volunteer.name });
  return [activity, same ? undefined : memo, on_behalf].filter((part) => part !== undefined && part !== '').join(' · ');
}

/** A refused correction in words: more than is left says how much is left. */
function reverseProblem(error: unknown, currency: string): Partial<Record<string, string>> {
  const left = error instanceof ApiError && typeof error.extra.left === 'string' ? error.extra.left : undefined;
  return left === undefined ? {} : { reversal_exceeds_left: t('console.reverse_exceeds_left', { left: formatAmount(left, currency) }) };
}

/**
 * An account's statement, newest first, with the running balance. A transfer not corrected yet
 * can be corrected (reversed) once, in full or in part, with a reason the account's holder reads
 * in their history; a corrected one says so. `onChanged` runs after a correction.
 */
export function Statement({ account, currency, onChanged, reversible = true }: {
  account: string; currency: string; onChanged?: () => void; reversible?: boolean;
}) {
  const [reversing, setReversing] = useState<Entry | undefined>(undefined);
  const [memo, setMemo] = useState('');
  const [amount, setAmount] = useState('');
  const [typedErrors, setTypedErrors] = useState<{ memo?: string; amount?: string }>({});
  const scale = currencies.value?.find((c) => c.code === currency)?.scale ?? 2;
  const { busy, error: reverseError, run, reset } = useAction();
  const [reversed, setReversed] = useState<string | undefined>(undefined);
  const caption = useId();

  const list = usePagedList(async (cursor) => {
    const page = await consoleApi.get('/accounts/{id}/entries', { path: { id: account }, query: { limit: page_size, cursor } });
    return { items: page.items as Entry[], next_cursor: page.next_cursor };
  });
  const { items: entries, error, reload: load } = list;
  useEffect(() => { void load(); }, [account]);

  const open = (entry: Entry) => {
    reset();
    setReversed(undefined);
    setMemo('');
    setAmount('');
    setTypedErrors({});
    setReversing(entry);
  };

  const reverse = async () => {
    if (reversing === undefined) return;
    const reason = memo.trim();
    const part = amount.trim() === '' ? undefined : amountInput(amount, scale);
    const found: typeof typedErrors = {};
    if (reason === '') found.memo = t('console.reverse_memo_missing');
    if (amount.trim() !== '' && part === undefined) found.amount = t('console.reverse_amount_invalid');
    setTypedErrors(found);
    if (Object.keys(found).length > 0) return;
    await run(async () => {
      await consoleApi.post('/transfers/{id}/reverse', {
        path: { id: reversing.transfer_id }, body: { memo: reason, ...(part === undefined ? {} : { amount: part }) },
        idempotent: `reverse:${reversing.transfer_id}:${part ?? 'all'}`,
      });
      setReversed(reversing.transfer_id);
      setReversing(undefined);
      await load();
      onChanged?.();
    });
  };

  if (error !== undefined && entries === undefined) return <ProblemAlert error={error} onRetry={() => void load()} />;
  if (entries === undefined) return <Loading />;

  return (
    <div class="statement" data-testid="statement">
      {reversed !== undefined && <Alert kind="success" data-testid="reverse-success">{t('console.reverse_done')}</Alert>}
      {entries.length === 0 ? (
        <p class="muted" data-testid="statement-empty">{t('console.statement_empty')}</p>
      ) : (
        <div class="table-wrap">
          <table class="table">
            <caption id={caption} class="sr-only">{t('console.statement')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('console.col_date')}</th>
                <th scope="col">{t('console.col_kind')}</th>
                <th scope="col">{t('console.col_counterparty')}</th>
                <th scope="col">{t('console.col_memo')}</th>
                <th scope="col" class="num">{t('console.col_amount')}</th>
                <th scope="col" class="num">{t('console.col_balance_after')}</th>
                {reversible && <th scope="col"><span class="sr-only">{t('console.col_actions')}</span></th>}
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={`${entry.transfer_id}:${entry.amount}`} data-testid="entry-row" data-transfer={entry.transfer_id} data-code={entry.code}
                  data-reversed={String(entry.reversed)}>
                  <td class="nowrap"><time dateTime={entry.created_at}>{formatDate(entry.created_at, 'short')}</time></td>
                  <td>{tMaybe(`common.transfer_codes.${entry.code}`) ?? entry.code}</td>
                  <td><a href={`/console/accounts/${entry.counterparty.id}`}>{accountName(entry.counterparty)}</a></td>
                  <td>{describe(entry)}</td>
                  <td class="num"><Amount value={entry.amount} currency={currency} signed /></td>
                  <td class="num"><Amount value={entry.balance_after} currency={currency} /></td>
                  {reversible && (
                    <td class="row-actions">
                      <div class="row-buttons">
                        {entry.reversed && <StatusTag kind="neutral" icon="undo" testid="entry-reversed">{t('console.reversed')}</StatusTag>}
                        {!entry.reversed && entry.code !== 'reversal' && (
                          <Btn small variant="ghost" icon="undo" data-testid="reverse" onClick={() => open(entry)}>
                            {t('console.reverse')}
                          </Btn>
                        )}
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {error !== undefined && <ProblemAlert error={error} />}
      {list.hasMore && (
        <Btn variant="secondary" icon="refresh" disabled={list.loadingMore} onClick={() => void list.more()} data-testid="statement-more">{t('console.load_more')}</Btn>
      )}
      <ConfirmDialog
        open={reversing !== undefined}
        title={t('console.reverse_title')}
        confirmLabel={t('console.reverse_confirm')}
        confirmIcon="undo"
        danger
        busy={busy}
        onCancel={() => setReversing(undefined)}
        onConfirm={() => void reverse()}
        testid="reverse-dialog"
      >
        {reversing !== undefined && (
          <>
            <p>
              {t('console.reverse_body', {
                amount: formatAmount(reversing.amount.replace(/^-/, ''), currency),
                counterparty: accountName(reversing.counterparty),
                date: formatDate(reversing.created_at, 'datetime'),
              })}
            </p>
            <div class="stack">
              <Field label={t('console.reverse_memo')} hint={t('console.reverse_memo_hint')} error={typedErrors.memo} required>
                {(attrs) => <input {...attrs} type="text" maxLength={500} value={memo} data-testid="reverse-memo" onInput={(e) => setMemo(e.currentTarget.value)} />}
              </Field>
              <Field label={t('console.reverse_amount')} error={typedErrors.amount}
                hint={t('console.reverse_amount_hint', { amount: formatAmount(reversing.amount.replace(/^-/, ''), currency) })}>
                {(attrs) => <input {...attrs} type="text" inputMode="decimal" autoComplete="off" value={amount} data-testid="reverse-amount" onInput={(e) => setAmount(e.currentTarget.value)} />}
              </Field>
            </div>
            {reverseError !== undefined && <ProblemAlert error={reverseError} overrides={reverseProblem(reverseError, currency)} testid="reverse-error" />}
          </>
        )}
      </ConfirmDialog>
    </div>
  );
}
