import { useEffect, useState } from 'preact/hooks';
import { consoleApi } from '../api.js';
import type { ResponseOf } from '../api.js';
import { formatAmount, t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { Alert } from '../ui/Alert.js';
import { ProblemAlert } from '../ui/problem.js';
import { Btn, Field, Panel } from './ui.js';
import { amountInput, currency } from './state.js';

type Helper = ResponseOf<'/wallets/{id}/helpers', 'get'>['items'][number];
type Candidate = ResponseOf<'/currencies/{code}/wallets', 'get'>['items'][number];

const candidates_max = 8;

/**
 * The helpers of a volunteer on their page: who may pay shops from this wallet with their own,
 * and how much of the month's maximum they used; a coordinator links one (found by name or card
 * code, with a maximum a month) or unlinks one at once.
 */
export function HelpersPanel({ wallet, name }: { wallet: string; name: string }) {
  const [helpers, setHelpers] = useState<Helper[] | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<Candidate[]>([]);
  const [chosen, setChosen] = useState('');
  const [typedMax, setTypedMax] = useState('');
  const [invalid, setInvalid] = useState<{ helper?: boolean; max?: boolean }>({});
  const { busy, error, done, run } = useAction();
  const cur = currency.value;

  const load = async () => {
    setLoadError(undefined);
    try {
      setHelpers((await consoleApi.get('/wallets/{id}/helpers', { path: { id: wallet } })).items);
    } catch (caught) {
      setLoadError(caught);
    }
  };
  useEffect(() => { void load(); }, [wallet]);

  useEffect(() => {
    if (cur === undefined || query.trim().length < 2) {
      setFound([]);
      return;
    }
    let live = true;
    consoleApi.get('/currencies/{code}/wallets', { path: { code: cur.code }, query: { q: query.trim(), limit: candidates_max } })
      .then((page) => {
        if (!live) return;
        const others = page.items.filter((item) => item.account !== wallet);
        setFound(others);
        setChosen(others[0]?.account ?? '');
      }, () => live && setFound([]));
    return () => { live = false; };
  }, [query, cur?.code]);

  const link = async (event: Event) => {
    event.preventDefault();
    const month_max = cur === undefined ? undefined : amountInput(typedMax, cur.scale);
    const helper = found.find((c) => c.account === chosen);
    setInvalid({ helper: helper === undefined, max: month_max === undefined });
    if (helper === undefined || month_max === undefined) return;
    const linked = await run(async () => {
      const made = await consoleApi.post('/wallets/{id}/helpers', { path: { id: wallet }, body: { helper_wallet: helper.account, month_max } });
      await load();
      return t('console.helper_linked', { name: made.helper_name, max: formatAmount(made.month_max, cur?.code ?? '') });
    });
    if (linked) {
      setQuery('');
      setTypedMax('');
    }
  };

  const unlink = (helper: Helper) => void run(async () => {
    await consoleApi.delete('/wallets/{id}/helpers/{helper_wallet}', { path: { id: wallet, helper_wallet: helper.helper_wallet } });
    await load();
    return t('console.helper_unlinked', { name: helper.helper_name });
  });

  const code = cur?.code ?? '';
  return (
    <Panel title={t('console.helpers_title')} icon="people" testid="wallet-helpers">
      <p class="form-intro">{t('console.helpers_intro')}</p>
      {loadError !== undefined && <ProblemAlert error={loadError} onRetry={() => void load()} />}
      {helpers !== undefined && helpers.length === 0 && <p class="muted" data-testid="helpers-empty">{t('console.helpers_empty')}</p>}
      {helpers !== undefined && helpers.length > 0 && (
        <ul class="helpers-list">
          {helpers.map((h) => (
            <li key={h.helper_wallet} data-testid="helper-item" data-helper={h.helper_wallet}>
              <span>{t('console.helpers_item', { name: h.helper_name, spent: formatAmount(h.spent_this_month, code), max: formatAmount(h.month_max, code) })}</span>
              <Btn variant="secondary" icon="ban" disabled={busy} data-testid="helper-unlink" onClick={() => unlink(h)}
                aria-label={`${t('console.helper_unlink')}: ${h.helper_name} (${name})`}>
                {t('console.helper_unlink')}
              </Btn>
            </li>
          ))}
        </ul>
      )}
      <form class="form-grid" onSubmit={(event) => void link(event)} noValidate>
        <Field label={t('console.helper_search')} error={invalid.helper === true ? t('console.helper_choose') : undefined} required>
          {(attrs) => <input {...attrs} type="search" maxLength={100} autoComplete="off" value={query} data-testid="helper-search" onInput={(e) => setQuery(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.helper_choose')}>
          {(attrs) => (
            <select {...attrs} value={chosen} disabled={found.length === 0} data-testid="helper-choose" onChange={(e) => setChosen(e.currentTarget.value)}>
              {found.map((c) => <option key={c.account} value={c.account}>{c.display_name}{c.card === null ? '' : ` (${c.card.display_code})`}</option>)}
            </select>
          )}
        </Field>
        <Field label={t('console.helper_month_max')} error={invalid.max === true ? t('console.amount_invalid', { scale: String(cur?.scale ?? 0) }) : undefined} required>
          {(attrs) => <input {...attrs} type="text" inputMode="decimal" autoComplete="off" value={typedMax} data-testid="helper-month-max" onInput={(e) => setTypedMax(e.currentTarget.value)} />}
        </Field>
        <div class="form-wide button-row">
          <Btn type="submit" icon="user-plus" disabled={busy} data-testid="helper-link">{t('console.helper_link')}</Btn>
        </div>
      </form>
      {error !== undefined && <ProblemAlert error={error} testid="helper-error" />}
      {done !== undefined && <Alert kind="success" data-testid="helper-done">{done}</Alert>}
    </Panel>
  );
}
