import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { consoleApi } from '../api.js';
import type { ResponseOf } from '../api.js';
import { t } from '../i18n/index.js';
import { formatHours } from '../lib/hours.js';
import type { Key } from '../i18n/index.js';
import { Alert } from '../ui/Alert.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Amount, BtnLink, Panel, formatEuro } from './ui.js';
import { currency, isAdmin, todayInBelgium } from './state.js';
import type { Account, Currency } from './state.js';

type Supply = ResponseOf<'/currencies/{code}/supply', 'get'>;
type Today = {
  rewards: ResponseOf<'/currencies/{code}/reports/volunteering', 'get'>['totals'];
  shops: ResponseOf<'/currencies/{code}/reports/shops', 'get'>['totals'];
};

function Stat({ label, children, testid, hint }: { label: string; children: ComponentChildren; testid?: string; hint?: string }) {
  return (
    <div class="stat" data-testid={testid}>
      <dt>{label}</dt>
      <dd>{children}</dd>
      {hint !== undefined && <dd class="stat-hint">{hint}</dd>}
    </div>
  );
}

const supply_rows: Array<{ field: Exclude<keyof Supply, 'euro_liability'>; label: Key; hint: Key }> = [
  { field: 'circulating', label: 'console.supply_circulating', hint: 'console.supply_circulating_hint' },
  { field: 'in_wallets', label: 'console.supply_in_wallets', hint: 'console.supply_in_wallets_hint' },
  { field: 'in_shops', label: 'console.supply_in_shops', hint: 'console.supply_in_shops_hint' },
  { field: 'in_programmes', label: 'console.supply_in_programmes', hint: 'console.supply_in_programmes_hint' },
  { field: 'issued', label: 'console.supply_issued', hint: 'console.supply_issued_hint' },
  { field: 'redeemed', label: 'console.supply_redeemed', hint: 'console.supply_redeemed_hint' },
];

function CurrencyDashboard({ cur }: { cur: Currency }) {
  const [supply, setSupply] = useState<Supply | undefined>(undefined);
  const [today, setToday] = useState<Today | null | undefined>(undefined);
  const [programmes, setProgrammes] = useState<Account[] | undefined>(undefined);
  const [pending, setPending] = useState<number | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);

  const load = async () => {
    setError(undefined);
    const code = cur.code;
    const day = todayInBelgium();
    try {
      const [s, p, r] = await Promise.all([
        consoleApi.get('/currencies/{code}/supply', { path: { code } }),
        consoleApi.get('/currencies/{code}/accounts', { path: { code }, query: { kind: 'programme', limit: 100 } }),
        consoleApi.get('/currencies/{code}/redemptions', { path: { code }, query: { status: 'pending' } }),
      ]);
      setSupply(s);
      setProgrammes(p.items);
      setPending(r.items.length);
    } catch (caught) {
      setError(caught);
    }
    try {
      const [v, sh] = await Promise.all([
        consoleApi.get('/currencies/{code}/reports/volunteering', { path: { code }, query: { from: day, to: day } }),
        consoleApi.get('/currencies/{code}/reports/shops', { path: { code }, query: { from: day, to: day } }),
      ]);
      setToday({ rewards: v.totals, shops: sh.totals });
    } catch {
      // Reports not available (an older service, or offline): say so instead of failing the dashboard.
      setToday(null);
    }
  };
  useEffect(() => { void load(); }, [cur.code]);

  return (
    <>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} />}
      {pending !== undefined && pending > 0 && (
        <Alert kind="warning" icon="clock" data-testid="pending-cashouts">
          <p>{t('console.dashboard_pending', { count: pending })}</p>
          <BtnLink href="/console/cashouts" variant="secondary" small icon="bank">{t('console.dashboard_pending_open')}</BtnLink>
        </Alert>
      )}
      <div class="dash-grid">
        <Panel title={t('console.today_title')} icon="calendar" testid="today">
          {today === undefined && <Loading />}
          {today === null && <p class="muted" data-testid="today-unavailable">{t('console.today_unavailable')}</p>}
          {today !== undefined && today !== null && (
            <dl class="stats">
              <Stat label={t('console.today_rewards')} testid="today-rewards" hint={t('console.today_rewards_hint', { count: today.rewards.rewards, volunteers: today.rewards.volunteers, hours: formatHours(today.rewards.hours) })}>
                <Amount value={today.rewards.coins} currency={cur.code} />
              </Stat>
              <Stat label={t('console.today_payments')} testid="today-payments" hint={t('console.today_payments_hint', { count: today.shops.payments })}>
                <Amount value={today.shops.takings} currency={cur.code} />
              </Stat>
              <Stat label={t('console.today_refunds')} testid="today-refunds">
                <Amount value={today.shops.refunds} currency={cur.code} />
              </Stat>
            </dl>
          )}
        </Panel>
        <Panel title={t('console.supply_title')} icon="coins" testid="supply">
          {supply === undefined ? (error === undefined && <Loading />) : (
            <dl class="stats">
              {supply_rows.map((row) => (
                <Stat key={row.field} label={t(row.label)} hint={t(row.hint)} testid={`supply-${row.field}`}>
                  <Amount value={supply[row.field]} currency={cur.code} />
                </Stat>
              ))}
              <Stat label={t('console.supply_euro_liability')} hint={t('console.supply_euro_liability_hint', { rate: formatEuro(cur.euro_per_unit) })} testid="supply-euro_liability">
                <span class="amount" data-amount={supply.euro_liability}>{formatEuro(supply.euro_liability)}</span>
              </Stat>
            </dl>
          )}
        </Panel>
      </div>
      <Panel title={t('console.budget_title')} icon="book" testid="budgets"
        actions={<BtnLink href="/console/ledger" variant="secondary" small icon="plus">{t('console.budget_add')}</BtnLink>}>
        {programmes === undefined ? (error === undefined && <Loading />) : programmes.length === 0 ? (
          <p class="muted">{t('console.budget_none')}</p>
        ) : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t('console.col_programme')}</th>
                  <th scope="col" class="num">{t('console.col_budget_left')}</th>
                  <th scope="col" class="num">{t('console.col_reserved')}</th>
                </tr>
              </thead>
              <tbody>
                {programmes.map((p) => (
                  <tr key={p.id} data-testid="programme-row" data-id={p.id}>
                    <td><a href={`/console/accounts/${p.id}`}>{p.name}</a></td>
                    <td class="num"><Amount value={p.available} currency={cur.code} testid="programme-available" /></td>
                    <td class="num"><Amount value={p.pending_debits} currency={cur.code} /></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>
    </>
  );
}

export function Dashboard() {
  const cur = currency.value;
  return (
    <ConsolePage title={cur === undefined ? t('console.dashboard_title') : t('console.dashboard_title_for', { name: cur.name })} testid="console-dashboard">
      {cur === undefined ? (
        <Alert kind="info" data-testid="no-currency">
          <p>{isAdmin.value ? t('console.no_currency_admin') : t('console.no_currency')}</p>
          {isAdmin.value && <BtnLink href="/console/admin" icon="plus" variant="secondary">{t('console.currency_create')}</BtnLink>}
        </Alert>
      ) : (
        <CurrencyDashboard cur={cur} />
      )}
    </ConsolePage>
  );
}
