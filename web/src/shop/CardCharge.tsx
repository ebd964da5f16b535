import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, getToken, shopApi } from '../api.js';
import type { ResponseOf } from '../api.js';
import { formatAmount, t } from '../i18n/index.js';
import { groupCardCode, parseScanned } from '../lib/links.js';
import { fromMinor, toMinor } from '../lib/money.js';
import { uuid } from '../lib/uuid.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading } from '../ui/Layout.js';
import { PinPad } from '../ui/PinPad.js';
import { PinProblemAlert, problemText } from '../ui/problem.js';
import { Scanner } from '../ui/Scanner.js';
import { AmountPad } from './AmountPad.js';
import { amountForApi } from './amount.js';
import { ShopScreen } from './ShopLayout.js';
import { keepPairing, pinCheckInFlight, refreshShop, shopInfo, shopState, tillDraft } from './state.js';

type Charge = ResponseOf<'/shop/charges', 'post'>;
type Step = 'scan' | 'amount' | 'pin' | 'done';

const memo_length_max = 500;

/** The tablet's words for a failed card payment; `available` is shown when the server says it. */
function chargeOverrides(error: unknown, currency: string, scale: number): Record<string, string> {
  let available: string | undefined;
  if (error instanceof ApiError && error.code === 'insufficient_funds') {
    const value = error.extra.available;
    if (typeof value === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(value)) available = value;
    else if (typeof error.extra.available_minor === 'string' && /^[0-9]+$/.test(error.extra.available_minor)) {
      available = fromMinor(BigInt(error.extra.available_minor), scale);
    }
  }
  return {
    pin_format: t('shop.charge_pin_format'),
    // The server answers a wrong card or PIN with 422 invalid_card_or_pin (the tablet stays signed in).
    invalid_card_or_pin: t('shop.charge_wrong_pin'),
    unauthenticated: t('shop.charge_wrong_pin'),
    card_replaced: t('shop.charge_card_blocked'),
    insufficient_funds: available === undefined
      ? t('shop.charge_insufficient')
      : t('shop.charge_insufficient_available', { available: formatAmount(fromMinor(toMinor(available, scale), scale), currency) }),
    wrong_currency: t('shop.charge_wrong_currency'),
    account_frozen: t('shop.charge_frozen'),
    account_closed: t('shop.charge_frozen'),
    balance_max_exceeded: t('shop.charge_shop_full'),
    validation_failed: t('shop.charge_invalid'),
  };
}

/**
 * Card + PIN: scan the customer's card (or type its code), type the amount, hand the tablet to
 * the customer for the PIN. The PIN lives only in this screen's state while it is typed: it is
 * never shown, stored or logged, and is cleared after every try.
 */
export function CardCharge() {
  const { route } = useLocation();
  const info = shopInfo.value;
  const scale = shopState.value?.scale ?? info?.scale;
  const currency = shopState.value?.currency ?? info?.currency ?? '';
  const shop_name = shopState.value?.name ?? info?.name ?? '';
  const [step, setStep] = useState<Step>('scan');
  const [card, setCard] = useState<string | undefined>(undefined);
  const [scanProblem, setScanProblem] = useState<string | undefined>(undefined);
  const [amount, setAmount] = useState(tillDraft.value.amount);
  const [memo, setMemo] = useState(tillDraft.value.memo);
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [done, setDone] = useState<Charge | undefined>(undefined);
  /** One card payment = one Idempotency-Key, kept while its answer is unknown. */
  const attempt = useRef<string>(uuid());
  const memo_id = useId();

  useEffect(() => {
    if (scale === undefined || shopState.value === undefined) refreshShop().catch(setLoadError);
  }, []);
  // Each step starts at its top, for screen readers too.
  useEffect(() => {
    requestAnimationFrame(() => document.getElementById('main')?.focus());
  }, [step]);

  const to_pay = scale === undefined ? undefined : amountForApi(amount, scale);

  const onScan = (text: string) => {
    const scanned = parseScanned(text);
    if (scanned.kind === 'card') {
      setCard(scanned.code);
      setScanProblem(undefined);
      setError(undefined);
      setStep('amount');
    } else {
      setScanProblem(scanned.kind === 'pay' ? t('shop.card_scan_is_payment') : t('shop.card_scan_unknown'));
    }
  };

  const submitPin = async (value: string) => {
    if (card === undefined || to_pay === undefined || scale === undefined) return;
    setPin('');
    if (!/^[0-9]{4,6}$/.test(value)) {
      setError(new ApiError(422, 'pin_format', ''));
      return;
    }
    setBusy(true);
    setError(undefined);
    const token = getToken('shop');
    pinCheckInFlight.value = true;
    try {
      const trimmed = memo.trim();
      const charge = await shopApi.post('/shop/charges', {
        body: { card, pin: value, amount: to_pay, ...(trimmed === '' ? {} : { memo: trimmed }) },
        idempotent: `charge:${attempt.current}`,
      });
      attempt.current = uuid();
      setDone(charge);
      setStep('done');
      tillDraft.value = { amount: '', memo: '' };
      void refreshShop().catch(() => undefined);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 401) {
        // A wrong card or PIN — unless the tablet itself was unpaired (then pairing shows).
        await keepPairing(token);
      }
      setError(caught);
    } finally {
      pinCheckInFlight.value = false;
      setBusy(false);
    }
  };

  const restart = () => {
    setCard(undefined);
    setAmount('');
    setMemo('');
    setPin('');
    setError(undefined);
    setDone(undefined);
    setScanProblem(undefined);
    attempt.current = uuid();
    setStep('scan');
  };

  const titles: Record<Step, string> = {
    scan: t('shop.card_title'),
    amount: t('shop.card_amount_title'),
    pin: t('shop.card_pin_title'),
    done: t('shop.card_done_title'),
  };

  if (scale === undefined) {
    return (
      <ShopScreen title={titles.scan} testid="shop-card">
        {loadError !== undefined ? <Alert kind="error" data-testid="card-error">{problemText(loadError)}</Alert> : <Loading />}
      </ShopScreen>
    );
  }

  const card_chip = card !== undefined && (
    <div class="card-chip" data-testid="charge-card">
      <Icon name="card" />
      <span class="sr-only">{t('shop.card_chosen', { code: groupCardCode(card) })}</span>
      <span class="card-chip-code" aria-hidden="true">{groupCardCode(card)}</span>
      {step !== 'done' && (
        <button type="button" class="link-button" disabled={busy} data-testid="charge-other-card" onClick={() => {
          setCard(undefined);
          setPin('');
          setError(undefined);
          setStep('scan');
        }}>{t('shop.card_other')}</button>
      )}
    </div>
  );

  return (
    <ShopScreen title={titles[step]} testid="shop-card" nav={step === 'scan' || step === 'done'}>
      <div data-testid="charge-step" data-step={step} class="charge">
        {step === 'scan' && (
          <div class="stack charge-scan">
            <p>{t('shop.card_intro')}</p>
            {scanProblem !== undefined && <Alert kind="warning" data-testid="card-scan-problem">{scanProblem}</Alert>}
            <Scanner onResult={onScan} manualLabel={t('shop.card_manual_label')} manualPlaceholder="K7QM-3D9X-P2RT-8HWV-Z" />
          </div>
        )}

        {step === 'amount' && (
          <form class="till" onSubmit={(event) => {
            event.preventDefault();
            if (to_pay === undefined) return;
            attempt.current = uuid();
            setError(undefined);
            setStep('pin');
          }}>
            <div class="till-pad">
              <AmountPad value={amount} scale={scale} currency={currency} onChange={setAmount} label={t('shop.card_amount_label')} />
            </div>
            <div class="till-side stack">
              {card_chip}
              <div class="field">
                <label class="field-label" for={memo_id}>
                  <Icon name="info" />
                  <span>{t('shop.memo_label')}</span>
                </label>
                <input id={memo_id} type="text" value={memo} maxLength={memo_length_max} autoComplete="off"
                  placeholder={t('shop.memo_placeholder')} data-testid="memo-input"
                  onInput={(event) => setMemo(event.currentTarget.value)} />
              </div>
              <Button type="submit" big icon="lock" disabled={to_pay === undefined} data-testid="charge-continue">
                {t('shop.card_to_pin')}
                <small class="btn-hint">{t('shop.card_to_pin_hint')}</small>
              </Button>
              <Button variant="ghost" icon="x" onClick={restart} data-testid="charge-cancel">{t('common.cancel')}</Button>
            </div>
          </form>
        )}

        {step === 'pin' && to_pay !== undefined && (
          <div class="charge-pin">
            <div class="charge-summary stack" data-testid="charge-summary">
              <p class="charge-handover">
                <Icon name="people" size={28} />
                <span>{t('shop.card_handover')}</span>
              </p>
              <dl class="pay-summary">
                <div class="pay-shop">
                  <dt><Icon name="shop" /><span>{t('shop.card_pay_to')}</span></dt>
                  <dd>{shop_name}</dd>
                </div>
                <div class="pay-amount">
                  <dt><Icon name="coins" /><span>{t('shop.card_pay_amount')}</span></dt>
                  <dd data-testid="charge-amount" data-amount={to_pay}>{formatAmount(to_pay, currency)}</dd>
                </div>
                {memo.trim() !== '' && (
                  <div>
                    <dt>{t('shop.memo_label')}</dt>
                    <dd>{memo.trim()}</dd>
                  </div>
                )}
              </dl>
              {card_chip}
              <Button variant="ghost" icon="back" disabled={busy} onClick={() => { setPin(''); setError(undefined); setStep('amount'); }}
                data-testid="charge-back">{t('shop.card_back_to_amount')}</Button>
            </div>
            <div class="charge-pinpad stack stack-tight">
              {error !== undefined && (
                <PinProblemAlert error={error} reader="shop" testid="charge-error" overrides={chargeOverrides(error, currency, scale)} />
              )}
              {busy && <Loading label={t('shop.charge_busy')} />}
              <PinPad value={pin} onChange={setPin} onSubmit={(value) => void submitPin(value)} disabled={busy}
                label={t('shop.card_pin_label')} submitLabel={t('shop.card_pay', { amount: formatAmount(to_pay, currency) })} />
            </div>
          </div>
        )}

        {step === 'done' && done !== undefined && (
          <div class="stack center">
            <div class="celebration" role="status" data-testid="charge-success">
              <span class="celebration-icon"><Icon name="check" size={64} /></span>
              <p class="celebration-title">{t('shop.qr_paid')} ✓</p>
              <p class="celebration-amount" data-testid="charge-success-amount" data-amount={done.amount}>{formatAmount(done.amount, done.currency)}</p>
              <p class="celebration-activity">{t('shop.card_done_body')}</p>
            </div>
            <div class="actions actions-row">
              <Button big icon="card" onClick={restart} data-testid="charge-new">{t('shop.card_new')}</Button>
              <Button big variant="secondary" icon="coins" onClick={() => route('/shop')} data-testid="charge-to-till">{t('shop.card_to_till')}</Button>
            </div>
          </div>
        )}
      </div>
    </ShopScreen>
  );
}
