/**
 * The coordinator console: every path under /console, loaded on demand as its own chunk.
 *
 *   /console                          dashboard (or the login first)
 *   /console/wallets                  volunteers: search, select, print cards
 *   /console/wallets/new              register a volunteer
 *   /console/wallets/:id              one volunteer: card, balance, statement, card actions
 *   /console/activities               the activity catalogue, the sessions running now
 *   /console/activities/new           a new activity
 *   /console/activities/:id           edit an activity
 *   /console/activities/:id/session   open a session (claim QR)
 *   /console/sessions                 the claim sessions of every device: running, ended
 *   /console/sessions/:id             a session's claim QR (full screen on demand)
 *   /console/sessions/:id/event       event mode: scan cards one after another
 *   /console/shops                    shops
 *   /console/shops/new                register a shop → pairing code
 *   /console/shops/:id                one shop: pairing codes, tablets, statement
 *   /console/cashouts                 cash-out requests to approve, payouts, bank files
 *   /console/ledger                   programmes, issuing, transfers, verify
 *   /console/accounts/:id             an account's statement, reversals
 *   /console/reports                  reports of a period with charts, CSV downloads, the bill ahead (own chunk)
 *   /console/audit                    the audit log
 *   /console/admin                    currencies and staff users (admin)
 *   /console/password                 change my own password
 *
 * Texts: the `console` section of i18n/nl.ts (then en.ts, fr.ts). API: `consoleApi`.
 */
import { useEffect, useState } from 'preact/hooks';
import { Route, Router, lazy } from 'preact-iso';
import { tokens } from '../api.js';
import { t } from '../i18n/index.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import './console.css';
import { Login } from './Login.js';
import { ConsolePage } from './Shell.js';
import { currencies, loadSession, sessionEnded } from './state.js';
import { Dashboard } from './Dashboard.js';
import { RegisterWallet, WalletDetail, Wallets } from './Wallets.js';
import { ActivityForm, Activities, NewSession } from './Activities.js';
import { EventMode, Sessions, SessionView } from './Sessions.js';
import { NewShop, ShopDetail, Shops } from './Shops.js';
import { Cashouts } from './Cashouts.js';
import { AccountStatement, Ledger } from './Ledger.js';
import { AuditLog } from './Audit.js';
import { Admin } from './Admin.js';
import { ChangePassword } from './Password.js';

/** The reports page and its charts load only when opened. */
const ReportsPage = lazy(() => import('./Reports.js'));

function NotFound() {
  return (
    <ConsolePage title={t('common.not_found_title')} testid="console-not-found">
      <p>{t('common.not_found_body')}</p>
    </ConsolePage>
  );
}

/** Focus the new screen's main region, so keyboards and screen readers start there. */
function focusMain() {
  requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: false }));
}

function Console() {
  const [error, setError] = useState<unknown>(undefined);
  const load = () => {
    setError(undefined);
    loadSession().catch(setError);
  };
  useEffect(() => {
    if (currencies.value === undefined) load();
  }, []);
  if (currencies.value === undefined) {
    return (
      <ConsolePage title={t('console.title')} testid="console-loading">
        {error === undefined ? <Loading /> : <ProblemAlert error={error} onRetry={load} />}
      </ConsolePage>
    );
  }
  return (
    <Router onRouteChange={focusMain}>
      <Route path="/" component={Dashboard} />
      <Route path="/wallets" component={Wallets} />
      <Route path="/wallets/new" component={RegisterWallet} />
      <Route path="/wallets/:id" component={WalletDetail} />
      <Route path="/activities" component={Activities} />
      <Route path="/activities/new" component={ActivityForm} />
      <Route path="/activities/:id" component={ActivityForm} />
      <Route path="/activities/:id/session" component={NewSession} />
      <Route path="/sessions" component={Sessions} />
      <Route path="/sessions/:id" component={SessionView} />
      <Route path="/sessions/:id/event" component={EventMode} />
      <Route path="/shops" component={Shops} />
      <Route path="/shops/new" component={NewShop} />
      <Route path="/shops/:id" component={ShopDetail} />
      <Route path="/cashouts" component={Cashouts} />
      <Route path="/ledger" component={Ledger} />
      <Route path="/accounts/:id" component={AccountStatement} />
      <Route path="/reports" component={ReportsPage} />
      <Route path="/audit" component={AuditLog} />
      <Route path="/admin" component={Admin} />
      <Route path="/password" component={ChangePassword} />
      <Route default component={NotFound} />
    </Router>
  );
}

export default function ConsoleApp() {
  // A refused token (401) is removed by api.ts: back to the login, saying the session ended.
  const logged_in = tokens.value.console !== undefined;
  useEffect(() => {
    if (!logged_in && currencies.value !== undefined) {
      sessionEnded.value = true;
      currencies.value = undefined;
    }
  }, [logged_in]);
  return logged_in ? <Console /> : <Login />;
}
