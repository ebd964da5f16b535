import type { ComponentChildren } from 'preact';
import { useLocation } from 'preact-iso';
import { t } from '../i18n/index.js';
import { Icon } from '../ui/Icon.js';
import type { IconName } from '../ui/Icon.js';
import { Screen } from '../ui/Layout.js';
import { shopInfo } from './state.js';

const tabs: Array<{ href: string; icon: IconName; label: () => string; testid: string }> = [
  { href: '/shop', icon: 'coins', label: () => t('shop.nav_till'), testid: 'nav-till' },
  { href: '/shop/card', icon: 'card', label: () => t('shop.nav_card'), testid: 'nav-card' },
  { href: '/shop/today', icon: 'clock', label: () => t('shop.nav_today'), testid: 'nav-today' },
  { href: '/shop/cashout', icon: 'wallet', label: () => t('shop.nav_cashout'), testid: 'nav-cashout' },
];

/** The tablet's tabs: till, card + PIN, today, cash-out. */
function ShopNav() {
  const { path } = useLocation();
  const current = path.replace(/\/+$/, '') || '/shop';
  return (
    <nav class="shop-nav" aria-label={t('shop.nav_label')} data-testid="shop-nav">
      {tabs.map((tab) => (
        <a key={tab.href} href={tab.href} class="shop-tab" data-testid={tab.testid}
          aria-current={current === tab.href ? 'page' : undefined}>
          <Icon name={tab.icon} size={28} />
          <span>{tab.label()}</span>
        </a>
      ))}
    </nav>
  );
}

/** A tablet screen: the shop's name in the header, the tabs (unless `nav` is false), then the content. */
export function ShopScreen({ title, testid, nav = true, children }: {
  title: string; testid: string; nav?: boolean; children: ComponentChildren;
}) {
  return (
    <Screen title={title} width="tablet" area={{ icon: 'shop', label: shopInfo.value?.name ?? t('shop.title') }} testid={testid}>
      {nav && <ShopNav />}
      {children}
    </Screen>
  );
}
