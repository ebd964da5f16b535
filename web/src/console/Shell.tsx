import type { ComponentChildren } from 'preact';
import { useEffect, useId } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { t } from '../i18n/index.js';
import type { Key } from '../i18n/index.js';
import { AppHeader, OfflineBanner } from '../ui/Layout.js';
import { Btn, BtnLink, CIcon } from './ui.js';
import type { ConsoleIconName } from './ui.js';
import { chooseCurrency, currencies, currency, isAdmin, logout, me } from './state.js';

const sections: Array<{ path: string; label: Key; icon: ConsoleIconName; testid: string; admin?: boolean }> = [
  { path: '/console', label: 'console.nav_dashboard', icon: 'chart', testid: 'nav-dashboard' },
  { path: '/console/wallets', label: 'console.nav_wallets', icon: 'people', testid: 'nav-wallets' },
  { path: '/console/activities', label: 'console.nav_activities', icon: 'star', testid: 'nav-activities' },
  { path: '/console/sessions', label: 'console.nav_sessions', icon: 'qr', testid: 'nav-sessions' },
  { path: '/console/shops', label: 'console.nav_shops', icon: 'shop', testid: 'nav-shops' },
  { path: '/console/cashouts', label: 'console.nav_cashouts', icon: 'bank', testid: 'nav-cashouts' },
  { path: '/console/ledger', label: 'console.nav_ledger', icon: 'book', testid: 'nav-ledger' },
  { path: '/console/reports', label: 'console.nav_reports', icon: 'report', testid: 'nav-reports' },
  { path: '/console/audit', label: 'console.nav_audit', icon: 'list', testid: 'nav-audit' },
  { path: '/console/admin', label: 'console.nav_admin', icon: 'settings', testid: 'nav-admin', admin: true },
];

/** Screens of the user's own (the menu's user block), in no section. */
const own_paths = ['/console/password'];

/** Which section a path belongs to (the longest matching prefix); none for the user's own screens. */
function sectionOf(path: string): string | undefined {
  if (own_paths.includes(path)) return undefined;
  const related: Record<string, string> = { '/console/accounts': '/console/ledger' };
  for (const [prefix, section] of Object.entries(related)) if (path.startsWith(prefix)) return section;
  return sections.map((s) => s.path).filter((p) => path === p || path.startsWith(`${p}/`)).sort((a, b) => b.length - a.length)[0] ?? '/console';
}

function CurrencyPicker() {
  const id = useId();
  const list = currencies.value ?? [];
  const current = currency.value;
  if (list.length === 0 || current === undefined) return null;
  if (list.length === 1) {
    return (
      <p class="nav-currency" data-testid="currency-current" data-code={current.code}>
        <CIcon name="coins" />
        <span>{current.name} <span class="muted">({current.code})</span></span>
      </p>
    );
  }
  return (
    <div class="nav-currency-picker">
      <label for={id}>
        <CIcon name="coins" />
        <span>{t('console.currency')}</span>
      </label>
      <select id={id} value={current.code} data-testid="currency-picker" onChange={(event) => chooseCurrency(event.currentTarget.value)}>
        {list.map((c) => <option key={c.code} value={c.code}>{c.name} ({c.code})</option>)}
      </select>
    </div>
  );
}

/**
 * One console screen: the app header, the section navigation with the currency and the user,
 * and a main region titled `title`.
 */
export function ConsolePage({ title, testid, children, actions }: {
  title: string; testid?: string; children: ComponentChildren; actions?: ComponentChildren;
}) {
  const { path, route } = useLocation();
  const active = sectionOf(path);
  useEffect(() => {
    const app_name = t('common.app_name');
    document.title = `${title} · ${t('console.title')} · ${app_name}`;
  }, [title]);
  return (
    <div class="screen screen-console">
      <a class="skip-link" href="#main">{t('console.skip_to_content')}</a>
      <AppHeader area={{ icon: 'people', label: t('console.title') }} />
      <OfflineBanner />
      <div class="console-layout">
        <nav class="console-nav" aria-label={t('console.nav_label')}>
          <CurrencyPicker />
          <ul>
            {sections.filter((s) => s.admin !== true || isAdmin.value).map((s) => (
              <li key={s.path}>
                <a href={s.path} aria-current={active === s.path ? 'page' : undefined} data-testid={s.testid}>
                  <CIcon name={s.icon} />
                  <span>{t(s.label)}</span>
                </a>
              </li>
            ))}
          </ul>
          <div class="nav-user">
            {me.value !== undefined && (
              <p data-testid="console-user">
                <CIcon name="key" />
                <span>
                  <span class="nav-user-email">{me.value.email}</span>
                  <span class="muted"> · {me.value.role === 'admin' ? t('console.role_admin') : t('console.role_coordinator')}</span>
                </span>
              </p>
            )}
            <BtnLink href="/console/password" variant="ghost" small icon="key" data-testid="change-password"
              aria-current={path === '/console/password' ? 'page' : undefined}>{t('console.password_title')}</BtnLink>
            <Btn variant="ghost" small icon="logout" data-testid="logout" onClick={() => void logout().then(() => route('/console', true))}>
              {t('console.logout')}
            </Btn>
          </div>
        </nav>
        <main id="main" tabIndex={-1} data-testid={testid}>
          <div class="page-head">
            <h1>{title}</h1>
            {actions !== undefined && <div class="page-actions">{actions}</div>}
          </div>
          {children}
        </main>
      </div>
    </div>
  );
}
