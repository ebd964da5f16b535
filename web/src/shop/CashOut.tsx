import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, shopApi } from '../api.js';
import { formatAmount, formatDate, t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { compare, multiply } from '../lib/money.js';
import { uuid } from '../lib/uuid.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import type { IconName } from '../ui/Icon.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert, problemText } from '../ui/problem.js';
import { AmountPad } from './AmountPad.js';
import { amountForApi, formatEuro } from './amount.js';
import { ShopScreen } from './ShopLayout.js';
import { refreshShop, shopInfo, shopState } from './state.js';
import type { Redemption } from './state.js';

const status_icons: Record<Redemption['status'], IconName> = { pending: 'clock', approved: 'check', rejected: 'x', reversed: 'back' };

function statusText(status: Redemption['status']): string {
  return {
    pending: t('shop.cashout_pending'), approved: t('shop.cashout_approved'), rejected: t('shop.cashout_rejected'),
    reversed: t('shop.cashout_reversed'),
  }[status];
}

/**
 * Cash-out: ask to turn coins into euros (POST /shop/redemptions). The coins are reserved until a
 * coordinator approves (then paid out by bank transfer) or rejects. The euro value shows while
 * typing: the amount times the currency's `euro_per_unit` from GET /shop, rounded to cents half to
 * even exactly as the service does (lib/money.ts, never a float).
 */
export function CashOut() {
  const [amount, setAmount] = useState('');
  const { busy, error, run } = useAction();
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [items, setItems] = useState<Redemption[] | undefined>(undefined);
  const [requested, setRequested] = useState<Redemption | undefined>(undefined);
  /** One request = one Idempotency-Key while its answer is unknown; the next request is a new action. */
  const action = useRef(`redeem:${uuid()}`);
  const hint = useId();
  const shop = shopState.value;
  const info = shopInfo.value;
  const scale = shop?.scale ?? info?.scale;
  const currency = shop?.currency ?? info?.currency ?? '';

  const load = async () => {
    setLoadError(undefined);
    try {
      const [, list] = await Promise.all([refreshShop(), shopApi.get('/shop/redemptions')]);
      setItems(list.items);
    } catch (caught) {
      setLoadError(caught);
    }
  };
  useEffect(() => { void load(); }, []);

  const to_redeem = scale === undefined ? undefined : amountForApi(amount, scale);
  const too_much = to_redeem !== undefined && shop !== undefined && compare(to_redeem, shop.available) > 0;
  const euro = to_redeem !== undefined && shop !== undefined && !too_much ? multiply(to_redeem, shop.euro_per_unit, 2) : undefined;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (to_redeem === undefined || too_much) return;
    setRequested(undefined);
    await run(async () => {
      const redemption = await shopApi.post('/shop/redemptions', { body: { amount: to_redeem }, idempotent: action.current });
      action.current = `redeem:${uuid()}`;
      setRequested(redemption);
      setAmount('');
      void load();
    });
  };

  return (
    <ShopScreen title={t('shop.cashout_title')} testid="shop-cashout">
      {loadError !== undefined && <ProblemAlert error={loadError} onRetry={() => void load()} testid="cashout-load-error" />}
      <div class="cashout-layout">
        <section aria-labelledby="cashout-ask" class="cashout-ask">
          <h2 id="cashout-ask"><Icon name="wallet" /><span>{t('shop.cashout_ask')}</span></h2>
          {shop !== undefined && (
            <p class="figure figure-inline" data-testid="cashout-available" data-amount={shop.available}>
              <span class="figure-label">{t('shop.available')}</span>
              <span class="figure-value">{formatAmount(shop.available, shop.currency)}</span>
            </p>
          )}
          {requested !== undefined && (
            <Alert kind="success" title={t('shop.cashout_done_title')} data-testid="cashout-success">
              <p data-testid="cashout-euro" data-euro={requested.euro_amount}>
                {t('shop.cashout_done_body', { amount: formatAmount(requested.amount, currency), euro: formatEuro(requested.euro_amount) })}
              </p>
              <p>{t('shop.cashout_done_next')}</p>
            </Alert>
          )}
          {scale === undefined ? (loadError === undefined && <Loading />) : (
            <form class="cashout-form" onSubmit={(event) => void submit(event)}>
              <AmountPad
                value={amount} scale={scale} currency={currency} label={t('shop.cashout_amount_label')} disabled={busy}
                hintId={hint} invalid={too_much} testid="cashout-amount-input" onChange={setAmount}
              />
              <div class="stack stack-tight cashout-side">
                <p class="hint" id={hint}>{t('shop.cashout_hint')}</p>
                {shop !== undefined && compare(shop.available, '0') > 0 && (
                  <Button variant="secondary" icon="coins" disabled={busy} onClick={() => setAmount(shop.available)} data-testid="cashout-all">
                    {t('shop.cashout_all', { amount: formatAmount(shop.available, shop.currency) })}
                  </Button>
                )}
                <p class="cashout-euro-preview" aria-live="polite" data-testid="cashout-euro-preview" data-euro={euro}>
                  {euro !== undefined && t('shop.cashout_euro_preview', { euro: formatEuro(euro) })}
                </p>
                {too_much && <Alert kind="warning" data-testid="cashout-too-much">{t('shop.cashout_too_much')}</Alert>}
                {error !== undefined && (
                  <Alert kind="error" data-testid="cashout-error">
                    <p data-code={error instanceof ApiError ? error.code : undefined}>
                      {problemText(error, {
                        iban_missing: t('shop.cashout_iban_missing'),
                        insufficient_funds: t('shop.cashout_too_much'),
                        validation_failed: t('shop.cashout_too_small'),
                        account_frozen: t('shop.cashout_frozen'),
                      })}
                    </p>
                  </Alert>
                )}
                {busy && <Loading label={t('shop.cashout_busy')} />}
                <Button type="submit" big icon="arrow-out" disabled={busy || to_redeem === undefined || too_much} data-testid="cashout-submit">
                  {to_redeem === undefined ? t('shop.cashout_submit_empty') : t('shop.cashout_submit', { amount: formatAmount(to_redeem, currency) })}
                </Button>
              </div>
            </form>
          )}
          <p class="hint cashout-intro">{t('shop.cashout_intro')}</p>
        </section>

        <section aria-labelledby="cashout-list" class="cashout-list">
          <h2 id="cashout-list"><Icon name="clock" /><span>{t('shop.cashout_list')}</span></h2>
          {items === undefined && loadError === undefined && <Loading />}
          {items !== undefined && items.length === 0 && <p class="muted" data-testid="cashout-empty">{t('shop.cashout_none')}</p>}
          {items !== undefined && items.length > 0 && (
            <ul class="entries" data-testid="redemptions">
              {items.map((item) => (
                <li key={item.id} class="entry redemption" data-testid="redemption" data-status={item.status} data-id={item.id}>
                  <span class={`entry-icon status-${item.status}`}><Icon name={status_icons[item.status]} /></span>
                  <span class="entry-text">
                    <span class="entry-title">
                      {formatAmount(item.amount, currency)}
                      {' = '}
                      <span data-testid="redemption-euro">{formatEuro(item.euro_amount)}</span>
                    </span>
                    <span class="entry-meta">
                      {t('shop.cashout_asked_on', { when: formatDate(item.created_at, 'short') })}
                      {item.decided_at !== null && <>{' · '}{t('shop.cashout_decided_on', { when: formatDate(item.decided_at, 'short') })}</>}
                    </span>
                  </span>
                  <span class={`status-badge status-${item.status}`} data-testid="redemption-status">
                    <Icon name={status_icons[item.status]} size={20} />
                    <span>{statusText(item.status)}</span>
                  </span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </ShopScreen>
  );
}
