/**
 * The client's routes. The wallet is part of the first load (phones, budget ≤ 100 KB gzipped);
 * the shop tablet and the coordinator console load on demand as their own chunks.
 *
 * Each area owns a path prefix, and the server answers every one of them with index.html:
 *   /wallet, /wallet/*, /c/*, /p/*, /r/*, /claim → wallet/WalletApp.tsx
 *   /shop, /shop/*                           → shop/ShopApp.tsx (its own routes inside)
 *   /console, /console/*                     → console/ConsoleApp.tsx (its own routes inside)
 *   /impact/:code                            → impact/ImpactPage.tsx (public, may be framed)
 */
import { Component } from 'preact';
import type { ComponentChildren } from 'preact';
import { LocationProvider, Route, Router, lazy } from 'preact-iso';
import { t } from './i18n/index.js';
import { Alert } from './ui/Alert.js';
import { Button, LinkButton } from './ui/Button.js';
import { Icon } from './ui/Icon.js';
import { Screen } from './ui/Layout.js';
import {
  CardLinkRoute, ClaimRoute, GiftRoute, PayRoute, WalletAgendaRoute, WalletCardRoute, WalletPinRoute, WalletReceiveRoute, WalletRoute,
  WalletScanRoute,
} from './wallet/WalletApp.js';

const ShopApp = lazy(() => import('./shop/ShopApp.js'));
const ConsoleApp = lazy(() => import('./console/ConsoleApp.js'));
const ImpactPage = lazy(() => import('./impact/ImpactPage.js'));

function Landing() {
  return (
    <Screen title={t('common.app_name')} testid="landing">
      <p class="lead">{t('common.landing_intro')}</p>
      <nav class="landing-choices" aria-label={t('common.app_name')}>
        <a class="choice" href="/wallet" data-testid="go-wallet">
          <Icon name="wallet" size={40} />
          <span class="choice-title">{t('common.landing_wallet')}</span>
          <span class="choice-hint">{t('common.landing_wallet_hint')}</span>
        </a>
        <a class="choice" href="/shop" data-testid="go-shop">
          <Icon name="shop" size={40} />
          <span class="choice-title">{t('common.landing_shop')}</span>
          <span class="choice-hint">{t('common.landing_shop_hint')}</span>
        </a>
        <a class="choice" href="/console" data-testid="go-console">
          <Icon name="people" size={40} />
          <span class="choice-title">{t('common.landing_console')}</span>
          <span class="choice-hint">{t('common.landing_console_hint')}</span>
        </a>
      </nav>
    </Screen>
  );
}

function NotFound() {
  return (
    <Screen title={t('common.not_found_title')} testid="not-found">
      <p>{t('common.not_found_body')}</p>
      <LinkButton href="/" icon="home" variant="secondary">{t('common.home')}</LinkButton>
    </Screen>
  );
}

/** A screen that failed (most often: its code could not load while offline) — not a blank page. */
class ScreenErrorBoundary extends Component<{ children: ComponentChildren }, { failed: boolean }> {
  override state = { failed: false };

  override componentDidCatch(error: unknown) {
    // A lazy route still loading throws a promise: that is not a failure.
    if (error instanceof Promise) throw error;
    this.setState({ failed: true });
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <Screen title={t('common.offline_title')} testid="load-failed">
        <Alert kind="error" icon="wifi-off">{t('common.offline_body')}</Alert>
        <Button icon="refresh" onClick={() => window.location.reload()}>{t('common.retry')}</Button>
      </Screen>
    );
  }
}

/** After a move to another screen, focus its main region so screen readers start there. */
function focusMain() {
  requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: false }));
}

export function App() {
  return (
    <LocationProvider>
      <ScreenErrorBoundary>
        <Router onRouteChange={focusMain}>
          <Route path="/" component={Landing} />
          <Route path="/wallet" component={WalletRoute} />
          <Route path="/wallet/scan" component={WalletScanRoute} />
          <Route path="/wallet/card" component={WalletCardRoute} />
          <Route path="/wallet/pin" component={WalletPinRoute} />
          <Route path="/wallet/agenda" component={WalletAgendaRoute} />
          <Route path="/wallet/receive" component={WalletReceiveRoute} />
          <Route path="/c/:card" component={CardLinkRoute} />
          <Route path="/p/:id" component={PayRoute} />
          <Route path="/r/:code" component={GiftRoute} />
          <Route path="/claim" component={ClaimRoute} />
          <Route path="/shop" component={ShopApp} />
          <Route path="/shop/*" component={ShopApp} />
          <Route path="/console" component={ConsoleApp} />
          <Route path="/console/*" component={ConsoleApp} />
          <Route path="/impact/:code" component={ImpactPage} />
          <Route default component={NotFound} />
        </Router>
      </ScreenErrorBoundary>
    </LocationProvider>
  );
}
