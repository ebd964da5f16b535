import { useEffect, useId, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { shopApi } from '../api.js';
import { t } from '../i18n/index.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { AmountPad } from './AmountPad.js';
import { amountForApi } from './amount.js';
import { ShopScreen } from './ShopLayout.js';
import { refreshShop, shopInfo, shopState, tillDraft } from './state.js';
import type { PaymentRequest } from './state.js';

/** The request just made, handed to its QR screen without asking the server again. */
export const justRequested = { current: undefined as PaymentRequest | undefined };

/** Why the till is shown again after a payment QR (said once, above the keypad). */
export const tillNotice = { current: undefined as 'cancelled' | undefined };

const memo_length_max = 500;

/** Asks the server for a payment request of `amount`; the QR screen takes it from there. */
export async function requestPayment(amount: string, memo: string): Promise<PaymentRequest> {
  const trimmed = memo.trim();
  const request = await shopApi.post('/shop/payment-requests', { body: { amount, ...(trimmed === '' ? {} : { memo: trimmed }) } });
  justRequested.current = request;
  return request;
}

/** The till: a big amount keypad, an optional memo, and "ask for payment" → the payment QR. */
export function Till() {
  const { route } = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [notice] = useState(() => {
    const said = tillNotice.current;
    tillNotice.current = undefined;
    return said;
  });
  const memo_id = useId();
  const info = shopInfo.value;
  const scale = shopState.value?.scale ?? info?.scale;
  const currency = shopState.value?.currency ?? info?.currency ?? '';
  const draft = tillDraft.value;

  useEffect(() => {
    if (scale === undefined || shopState.value === undefined) refreshShop().catch(setError);
  }, []);

  const amount = scale === undefined ? undefined : amountForApi(draft.amount, scale);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (amount === undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      const request = await requestPayment(amount, draft.memo);
      route(`/shop/request/${request.id}`);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <ShopScreen title={t('shop.till_title')} testid="shop-till">
      {notice === 'cancelled' && <Alert kind="info" data-testid="till-notice">{t('shop.qr_cancelled_by_you')}</Alert>}
      {error !== undefined && <ProblemAlert error={error} testid="till-error" onRetry={scale === undefined ? () => { setError(undefined); void refreshShop().catch(setError); } : undefined} />}
      {scale === undefined ? (error === undefined && <Loading />) : (
        <form class="till" onSubmit={(event) => void submit(event)}>
          <div class="till-pad">
            <AmountPad value={draft.amount} scale={scale} currency={currency} disabled={busy}
              onChange={(next) => { tillDraft.value = { ...tillDraft.value, amount: next }; }} />
          </div>
          <div class="till-side stack">
            <div class="field">
              <label class="field-label" for={memo_id}>
                <Icon name="info" />
                <span>{t('shop.memo_label')}</span>
              </label>
              <input id={memo_id} type="text" value={draft.memo} maxLength={memo_length_max} autoComplete="off"
                placeholder={t('shop.memo_placeholder')} data-testid="memo-input" disabled={busy}
                onInput={(event) => { tillDraft.value = { ...tillDraft.value, memo: event.currentTarget.value }; }} />
            </div>
            {busy && <Loading label={t('shop.request_busy')} />}
            <Button type="submit" big icon="scan" disabled={busy || amount === undefined} data-testid="request-payment">
              {t('shop.request_button')}
              <small class="btn-hint">{t('shop.request_hint')}</small>
            </Button>
            <p class="hint till-or">{t('shop.till_or_card')}</p>
            <Button variant="secondary" icon="card" onClick={() => route('/shop/card')} data-testid="till-card">
              {t('shop.nav_card')}
            </Button>
          </div>
        </form>
      )}
    </ShopScreen>
  );
}
