import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { locale, locales, setLocale, isLocale, t } from '../i18n/index.js';
import { online } from '../lib/online.js';
import { Icon } from './Icon.js';
import type { IconName } from './Icon.js';

/** Picks the language; each is named in itself. The choice is remembered on this device. */
export function LanguagePicker() {
  return (
    <label class="lang-picker">
      <Icon name="globe" />
      <span class="sr-only">{t('common.language')}</span>
      <select
        value={locale.value}
        data-testid="language"
        onChange={(event) => {
          const value = event.currentTarget.value;
          if (isLocale(value)) void setLocale(value);
        }}
      >
        {Object.entries(locales).map(([code, info]) => (
          <option key={code} value={code} lang={info.intl}>{info.name}</option>
        ))}
      </select>
    </label>
  );
}

/** Shown under the header while the service cannot be reached. */
export function OfflineBanner() {
  if (online.value) return null;
  return (
    <div class="offline-banner" role="status" data-testid="offline">
      <Icon name="wifi-off" />
      <span>{t('common.offline_banner')}</span>
    </div>
  );
}

/** The bar on top of every screen: a way back (or home), the app's name, the language. */
export function AppHeader({ back, area }: { back?: string; area?: { icon: IconName; label: string } }) {
  return (
    <header class="app-header">
      {back !== undefined ? (
        <a class="header-link" href={back} data-testid="back">
          <Icon name="back" />
          <span>{t('common.back')}</span>
        </a>
      ) : (
        <a class="header-link brand" href="/">
          <Icon name="coins" />
          <span>{t('common.app_name')}</span>
        </a>
      )}
      {area !== undefined && (
        <span class="header-area">
          <Icon name={area.icon} />
          <span>{area.label}</span>
        </span>
      )}
      <LanguagePicker />
    </header>
  );
}

/**
 * One screen: header, offline banner, and a main region titled `title` (the page title too).
 * `width` is "phone" (wallet, default), "tablet" (shop) or "wide" (console).
 */
export function Screen({ title, back, area, width = 'phone', children, testid }: {
  title: string; back?: string; area?: { icon: IconName; label: string };
  width?: 'phone' | 'tablet' | 'wide'; children: ComponentChildren; testid?: string;
}) {
  useEffect(() => {
    const app_name = t('common.app_name');
    document.title = title === app_name ? app_name : `${title} · ${app_name}`;
  }, [title]);
  return (
    <div class={`screen screen-${width}`} data-testid={testid}>
      <AppHeader back={back} area={area} />
      <OfflineBanner />
      <main id="main" tabIndex={-1}>
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}

/** A busy indicator with its words (read out by screen readers). */
export function Loading({ label }: { label?: string }) {
  return (
    <div class="loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span>{label ?? t('common.loading')}</span>
    </div>
  );
}
