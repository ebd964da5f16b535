import { useEffect, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { consoleApi } from '../api.js';
import type { ResponseOf } from '../api.js';
import { formatAmount, t, tMaybe } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { uuid } from '../lib/uuid.js';
import { Alert } from '../ui/Alert.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Statement } from './Statement.js';
import { Amount, Btn, BtnLink, CIcon, ConfirmDialog, Field, Panel, accountName } from './ui.js';
import { amountInput, currency } from './state.js';
import type { Account, Currency } from './state.js';
import { accountStatusTag } from './Wallets.js';

type Verify = ResponseOf<'/currencies/{code}/verify', 'get'>;
// Payments, refunds and cash-outs are made only by their own paths (the server refuses them here).
const manual_codes = ['adjustment', 'budget', 'reward'] as const;
type ManualCode = (typeof manual_codes)[number];

export function kindName(kind: string): string {
  return tMaybe(`console.kind_${kind}`) ?? kind;
}

/** Finds an account by name (any kind) and picks one of the matches. */
function AccountPicker({ code, label, value, onChange, testid, preferred = 0 }: {
  code: string; label: string; value: string; onChange: (id: string) => void; testid: string;
  /** Which match to choose when the current one is not among them (so two pickers start apart). */
  preferred?: number;
}) {
  const [q, setQ] = useState('');
  const [found, setFound] = useState<Account[]>([]);
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      consoleApi.get('/currencies/{code}/accounts', { path: { code }, query: { q: q.trim() === '' ? undefined : q.trim(), limit: 30 } })
        .then((page) => {
          if (!live) return;
          const usable = page.items.filter((a) => a.kind !== 'issuance');
          setFound(usable);
          if (!usable.some((a) => a.id === value)) onChange(usable[preferred]?.id ?? usable[0]?.id ?? '');
        })
        .catch(() => {});
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [code, q]);
  return (
    <fieldset class="picker">
      <legend>{label}</legend>
      <Field label={t('console.picker_search')}>
        {(attrs) => <input {...attrs} type="search" value={q} data-testid={`${testid}-search`} onInput={(e) => setQ(e.currentTarget.value)} />}
      </Field>
      <Field label={t('console.picker_choose')}>
        {(attrs) => (
          <select {...attrs} value={value} data-testid={testid} onChange={(e) => onChange(e.currentTarget.value)}>
            {found.length === 0 && <option value="">{t('console.picker_none')}</option>}
            {found.map((a) => (
              <option key={a.id} value={a.id}>{accountName(a)} · {kindName(a.kind)} · {formatAmount(a.available, code)}</option>
            ))}
          </select>
        )}
      </Field>
    </fieldset>
  );
}

function Programmes({ cur, programmes, onChanged }: { cur: Currency; programmes: Account[]; onChanged: () => void }) {
  const [name, setName] = useState('');
  const { busy, error, run } = useAction();
  const [nameError, setNameError] = useState<string | undefined>(undefined);
  const create = async (event: Event) => {
    event.preventDefault();
    if (name.trim() === '') {
      setNameError(t('console.programme_name_missing'));
      return;
    }
    setNameError(undefined);
    await run(async () => {
      await consoleApi.post('/currencies/{code}/accounts', { path: { code: cur.code }, body: { kind: 'programme', name: name.trim() } });
      setName('');
      onChanged();
    });
  };
  return (
    <Panel title={t('console.programmes_title')} icon="book" testid="programmes">
      <p class="hint">{t('console.programmes_intro')}</p>
      {programmes.length === 0 ? <p class="muted">{t('console.budget_none')}</p> : (
        <div class="table-wrap">
          <table class="table">
            <thead>
              <tr>
                <th scope="col">{t('console.col_programme')}</th>
                <th scope="col" class="num">{t('console.col_budget_left')}</th>
              </tr>
            </thead>
            <tbody>
              {programmes.map((p) => (
                <tr key={p.id} data-testid="programme-row" data-id={p.id} data-name={p.name}>
                  <td><a href={`/console/accounts/${p.id}`}>{p.name}</a></td>
                  <td class="num"><Amount value={p.available} currency={cur.code} testid="programme-available" /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form class="inline-fields" onSubmit={(event) => void create(event)} noValidate>
        <Field label={t('console.programme_new_name')} error={nameError}>
          {(attrs) => <input {...attrs} type="text" maxLength={200} value={name} data-testid="programme-name" onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Btn type="submit" icon="plus" disabled={busy} data-testid="programme-create">{t('console.programme_create')}</Btn>
      </form>
      {error !== undefined && <ProblemAlert error={error} testid="programme-error" />}
    </Panel>
  );
}

function Issue({ cur, programmes, onChanged }: { cur: Currency; programmes: Account[]; onChanged: () => void }) {
  const [to, setTo] = useState(programmes[0]?.id ?? '');
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const [attempt, setAttempt] = useState(uuid);
  const { busy, error, done, run } = useAction();
  const [amountError, setAmountError] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (!programmes.some((p) => p.id === to)) setTo(programmes[0]?.id ?? '');
  }, [programmes]);
  const submit = async (event: Event) => {
    event.preventDefault();
    const value = amountInput(amount, cur.scale);
    setAmountError(value === undefined ? t('console.amount_invalid', { scale: cur.scale }) : undefined);
    if (value === undefined || to === '') return;
    const issued = await run(async () => {
      await consoleApi.post('/currencies/{code}/issue', {
        path: { code: cur.code }, body: { to_account: to, amount: value, ...(memo.trim() === '' ? {} : { memo: memo.trim() }) },
        idempotent: `issue:${attempt}`,
      });
      return t('console.issue_done', { amount: formatAmount(value, cur.code), name: programmes.find((p) => p.id === to)?.name ?? '' });
    });
    if (!issued) return;
    setAmount('');
    setMemo('');
    setAttempt(uuid());
    onChanged();
  };
  return (
    <Panel title={t('console.issue_title')} icon="coins" testid="issue">
      <p class="hint">{t('console.issue_intro')}</p>
      {done !== undefined && <Alert kind="success" data-testid="issue-done">{done}</Alert>}
      {programmes.length === 0 ? <p class="muted">{t('console.issue_needs_programme')}</p> : (
        <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
          <Field label={t('console.issue_to')} required>
            {(attrs) => (
              <select {...attrs} value={to} data-testid="issue-account" onChange={(e) => setTo(e.currentTarget.value)}>
                {programmes.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
              </select>
            )}
          </Field>
          <Field label={t('console.amount_in', { code: cur.code })} error={amountError} required>
            {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={amount} data-testid="issue-amount" onInput={(e) => setAmount(e.currentTarget.value)} />}
          </Field>
          <Field label={t('console.memo')} hint={t('console.issue_memo_hint')}>
            {(attrs) => <input {...attrs} type="text" maxLength={500} value={memo} data-testid="issue-memo" onInput={(e) => setMemo(e.currentTarget.value)} />}
          </Field>
          {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="issue-error" /></div>}
          <div class="form-wide"><Btn type="submit" icon="coins" disabled={busy} data-testid="issue-submit">{t('console.issue_submit')}</Btn></div>
        </form>
      )}
    </Panel>
  );
}

function Transfer({ cur, onChanged }: { cur: Currency; onChanged: () => void }) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [amount, setAmount] = useState('');
  const [code, setCode] = useState<ManualCode>('adjustment');
  const [memo, setMemo] = useState('');
  const [attempt, setAttempt] = useState(uuid);
  const { busy, error, done, run } = useAction();
  const [formError, setFormError] = useState<string | undefined>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    const value = amountInput(amount, cur.scale);
    if (value === undefined) {
      setFormError(t('console.amount_invalid', { scale: cur.scale }));
      return;
    }
    if (from === '' || to === '' || from === to) {
      setFormError(t('console.transfer_accounts_invalid'));
      return;
    }
    setFormError(undefined);
    const sent = await run(async () => {
      await consoleApi.post('/currencies/{code}/transfers', {
        path: { code: cur.code },
        body: { id: attempt, debit_account: from, credit_account: to, amount: value, code, pending: false, ...(memo.trim() === '' ? {} : { memo: memo.trim() }) },
        idempotent: `transfer:${attempt}`,
      });
      return t('console.transfer_done', { amount: formatAmount(value, cur.code) });
    });
    if (!sent) return;
    setAmount('');
    setMemo('');
    setAttempt(uuid());
    onChanged();
  };
  return (
    <Panel title={t('console.transfer_title')} icon="send" testid="transfer">
      <p class="hint">{t('console.transfer_intro')}</p>
      {done !== undefined && <Alert kind="success" data-testid="transfer-done">{done}</Alert>}
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <AccountPicker code={cur.code} label={t('console.transfer_from')} value={from} onChange={setFrom} testid="transfer-from" />
        <AccountPicker code={cur.code} label={t('console.transfer_to')} value={to} onChange={setTo} testid="transfer-to" preferred={1} />
        <Field label={t('console.amount_in', { code: cur.code })} required>
          {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={amount} data-testid="transfer-amount" onInput={(e) => setAmount(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.transfer_code')}>
          {(attrs) => (
            <select {...attrs} value={code} data-testid="transfer-code" onChange={(e) => setCode(e.currentTarget.value as ManualCode)}>
              {manual_codes.map((c) => <option key={c} value={c}>{tMaybe(`common.transfer_codes.${c}`) ?? c}</option>)}
            </select>
          )}
        </Field>
        <Field label={t('console.memo')} hint={t('console.transfer_memo_hint')}>
          {(attrs) => <input {...attrs} type="text" maxLength={500} value={memo} data-testid="transfer-memo" onInput={(e) => setMemo(e.currentTarget.value)} />}
        </Field>
        {formError !== undefined && <div class="form-wide"><Alert kind="error" data-testid="transfer-invalid">{formError}</Alert></div>}
        {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="transfer-error" /></div>}
        <div class="form-wide"><Btn type="submit" icon="send" disabled={busy} data-testid="transfer-submit">{t('console.transfer_submit')}</Btn></div>
      </form>
    </Panel>
  );
}

function VerifyPanel({ cur }: { cur: Currency }) {
  const [result, setResult] = useState<Verify | undefined>(undefined);
  const { busy, error, run: runAction } = useAction();
  const run = () => runAction(async () => {
    setResult(await consoleApi.get('/currencies/{code}/verify', { path: { code: cur.code } }));
  });
  return (
    <Panel title={t('console.verify_title')} icon="shield" testid="verify"
      actions={<Btn icon="shield" variant="secondary" disabled={busy} onClick={() => void run()} data-testid="verify-run">{t('console.verify_run')}</Btn>}>
      <p class="hint">{t('console.verify_intro')}</p>
      {busy && <Loading label={t('console.verify_busy')} />}
      {error !== undefined && <ProblemAlert error={error} />}
      {result !== undefined && (
        <div data-testid="verify-result" data-ok={String(result.ok)}>
          <Alert kind={result.ok ? 'success' : 'error'}>{result.ok ? t('console.verify_ok') : t('console.verify_failed')}</Alert>
          <ul class="checklist">
            {result.checks.map((check) => (
              <li key={check.name} class={check.ok ? 'check-ok' : 'check-bad'} data-testid="verify-check" data-ok={String(check.ok)} data-name={check.name}>
                <CIcon name={check.ok ? 'check' : 'x'} />
                <span class="sr-only">{check.ok ? t('console.verify_check_ok') : t('console.verify_check_failed')}: </span>
                <span>
                  <strong>{tMaybe(`console.verify_${check.name}`) ?? check.name.replace(/_/g, ' ')}</strong>
                  {tMaybe(`console.verify_about.${check.name}`) !== undefined && (
                    <span class="muted" data-testid="verify-about"> — {tMaybe(`console.verify_about.${check.name}`)}</span>
                  )}
                  {!check.ok && (
                    // What is wrong names accounts and transfers by id: for whoever repairs it, as the service says it.
                    <details class="verify-detail">
                      <summary>{t('console.verify_technical')}</summary>
                      <pre lang="en" data-testid="verify-detail">{check.detail}</pre>
                    </details>
                  )}
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Panel>
  );
}

export function Ledger() {
  const cur = currency.value;
  const [programmes, setProgrammes] = useState<Account[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const load = async () => {
    if (cur === undefined) return;
    setError(undefined);
    try {
      setProgrammes((await consoleApi.get('/currencies/{code}/accounts', { path: { code: cur.code }, query: { kind: 'programme', limit: 200 } })).items);
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => { void load(); }, [cur?.code]);
  return (
    <ConsolePage title={t('console.ledger_title')} testid="console-ledger">
      <p class="lead">{t('console.ledger_intro')}</p>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} />}
      {cur === undefined ? <p>{t('console.no_currency')}</p> : programmes === undefined ? (error === undefined && <Loading />) : (
        <>
          <div class="detail-grid">
            <Programmes cur={cur} programmes={programmes} onChanged={() => void load()} />
            <Issue cur={cur} programmes={programmes} onChanged={() => void load()} />
          </div>
          <Transfer cur={cur} onChanged={() => void load()} />
          <VerifyPanel cur={cur} />
        </>
      )}
    </ConsolePage>
  );
}

// An account's statement ---------------------------------------------------------------------------------

export function AccountStatement() {
  const { params } = useRoute();
  const { route } = useLocation();
  const id = params.id ?? '';
  const [account, setAccount] = useState<Account | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [confirming, setConfirming] = useState<'frozen' | 'active' | undefined>(undefined);
  const [reason, setReason] = useState('');
  const { busy, error: statusError, run } = useAction();
  const load = async () => {
    setError(undefined);
    try {
      setAccount(await consoleApi.get('/accounts/{id}', { path: { id } }));
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => { void load(); }, [id]);
  const setStatus = async () => {
    if (confirming === undefined) return;
    await run(async () => {
      // Freezing says why: the reason is shown with the account and kept in the audit log.
      const body = confirming === 'frozen' ? { status: confirming, reason: reason.trim() } : { status: confirming };
      setAccount(await consoleApi.patch('/accounts/{id}', { path: { id }, body }));
      setConfirming(undefined);
      setReason('');
    });
  };
  return (
    <ConsolePage title={account === undefined ? t('console.account_title') : accountName(account)} testid="console-account"
      actions={<Btn variant="ghost" icon="back" onClick={() => history.length > 1 ? history.back() : route('/console/ledger')}>{t('common.back')}</Btn>}>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} />}
      {account === undefined ? (error === undefined && <Loading />) : (
        <>
          <Panel title={t('console.account_title')} icon="book" testid="account-detail"
            actions={account.kind === 'issuance' || account.status === 'closed' ? undefined : account.status === 'active'
              ? <Btn small variant="danger" icon="lock" onClick={() => setConfirming('frozen')} data-testid="account-freeze">{t('console.account_freeze')}</Btn>
              : <Btn small variant="secondary" icon="unlock" onClick={() => setConfirming('active')} data-testid="account-unfreeze">{t('console.account_unfreeze')}</Btn>}>
            <dl class="facts facts-row">
              <div><dt>{t('console.col_kind')}</dt><dd data-testid="account-kind">{kindName(account.kind)}</dd></div>
              <div><dt>{t('console.col_balance')}</dt><dd><Amount value={account.balance} currency={account.currency} testid="account-balance" /></dd></div>
              <div><dt>{t('console.account_available')}</dt><dd><Amount value={account.available} currency={account.currency} /></dd></div>
              <div><dt>{t('console.col_reserved')}</dt><dd><Amount value={account.pending_debits} currency={account.currency} /></dd></div>
              <div><dt>{t('console.col_status')}</dt><dd>{accountStatusTag(account)}</dd></div>
              {account.status_reason !== null && (
                <div><dt>{t('console.account_status_reason')}</dt><dd data-testid="account-status-reason">{account.status_reason}</dd></div>
              )}
            </dl>
            {account.kind === 'wallet' && <BtnLink small variant="secondary" icon="wallet" href={`/console/wallets/${account.id}`}>{t('console.open_wallet')}</BtnLink>}
            {account.kind === 'shop' && <BtnLink small variant="secondary" icon="shop" href={`/console/shops/${account.id}`}>{t('console.shop_open')}</BtnLink>}
          </Panel>
          <Panel title={t('console.statement')} icon="list">
            <Statement account={account.id} currency={account.currency} onChanged={() => void load()} />
          </Panel>
          <ConfirmDialog
            open={confirming !== undefined}
            title={confirming === 'frozen' ? t('console.account_freeze_title') : t('console.account_unfreeze_title')}
            confirmLabel={confirming === 'frozen' ? t('console.account_freeze') : t('console.account_unfreeze')}
            confirmIcon={confirming === 'frozen' ? 'lock' : 'unlock'}
            danger={confirming === 'frozen'}
            busy={busy}
            onCancel={() => setConfirming(undefined)}
            onConfirm={() => void setStatus()}
            testid="account-dialog"
          >
            <p>{confirming === 'frozen' ? t('console.account_freeze_body', { name: account.name }) : t('console.account_unfreeze_body', { name: account.name })}</p>
            {confirming === 'frozen' && (
              <Field label={t('console.account_freeze_reason')} hint={t('console.account_freeze_reason_hint')} required>
                {(attrs) => <textarea {...attrs} rows={2} maxLength={500} value={reason} data-testid="account-freeze-reason"
                  onInput={(event) => setReason(event.currentTarget.value)} />}
              </Field>
            )}
            {statusError !== undefined && <ProblemAlert error={statusError} overrides={{ reason_required: t('console.account_freeze_reason_required'), validation_failed: t('console.account_freeze_reason_required') }} />}
          </ConfirmDialog>
        </>
      )}
    </ConsolePage>
  );
}
