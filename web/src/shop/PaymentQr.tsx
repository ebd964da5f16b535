import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { ApiError, publicApi, shopApi, streamEvents } from '../api.js';
import { formatAmount, t } from '../i18n/index.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { QrCode } from '../ui/QrCode.js';
import { remaining } from './amount.js';
import { ShopScreen } from './ShopLayout.js';
import { tillDraft } from './state.js';
import type { PaymentRequest } from './state.js';
import { justRequested, requestPayment, tillNotice } from './Till.js';

/** How often the status is asked when the event stream failed. */
export const poll_interval_ms = 2000;
/** While the stream runs, a quiet check this often (a stream can stall without an error). */
const safety_check_ms = 10_000;
/** How long "Paid" stays before the keypad comes back by itself. */
export const paid_return_ms = 6000;

type Live = 'sse' | 'poll';

/**
 * The status of a payment request, live: server-sent events (with the tablet's token), falling
 * back to asking every 2 s when the stream fails or ends before the request is final.
 */
function useLiveStatus(initial: PaymentRequest): { current: PaymentRequest; live: Live; set: (next: PaymentRequest) => void; check: () => void } {
  const [current, setCurrent] = useState(initial);
  const [live, setLive] = useState<Live>('sse');
  const checkRef = useRef<() => void>(() => {});

  useEffect(() => {
    if (initial.status !== 'open') return;
    const controller = new AbortController();
    let stopped = false;
    let final = false;
    let polling = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const apply = (next: PaymentRequest) => {
      if (stopped || next.id !== initial.id) return;
      setCurrent(next);
      if (next.status !== 'open') {
        final = true;
        clearTimeout(timer);
        controller.abort();
      }
    };
    const check = async () => {
      try {
        apply(await publicApi.get('/payment-requests/{id}', { path: { id: initial.id } }));
      } catch {
        // No answer (offline): the next check tries again; the offline banner says why.
      }
    };
    const schedule = () => {
      if (stopped || final) return;
      clearTimeout(timer);
      timer = setTimeout(() => void check().then(schedule), polling ? poll_interval_ms : safety_check_ms);
    };
    const startPolling = () => {
      if (stopped || final || polling) return;
      polling = true;
      setLive('poll');
      void check().then(schedule);
    };
    checkRef.current = () => void check();

    schedule();
    streamEvents('shop', `/payment-requests/${encodeURIComponent(initial.id)}/events`, (event, data) => {
      if (event !== 'status') return;
      try {
        apply(JSON.parse(data) as PaymentRequest);
      } catch {
        // Not the JSON we expect: the checks still find the status.
      }
    }, controller.signal).then(startPolling, startPolling);

    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    };
  }, [initial.id]);

  return { current, live, set: setCurrent, check: () => checkRef.current() };
}

/** Side of the QR code: as large as the screen allows (a phone reads it from further away). */
function qrSize(): number {
  return Math.round(Math.max(220, Math.min(520, window.innerHeight - 250, window.innerWidth - 48)));
}

/** The payment QR, full screen: amount, shop, countdown, cancel — and "Paid ✓" the moment it is. */
function PaymentQr({ initial }: { initial: PaymentRequest }) {
  const { route } = useLocation();
  const { current, live, set, check } = useLiveStatus(initial);
  const [now, setNow] = useState(Date.now());
  const [busy, setBusy] = useState<'cancel' | 'again' | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [size] = useState(qrSize);
  const next_button = useRef<HTMLDivElement>(null);
  const status = current.status;
  const amount = formatAmount(current.amount, current.currency);

  useEffect(() => {
    if (status !== 'open') return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [status]);

  const left = remaining(current.expires_at, now);
  // Past its time on this tablet's clock: ask the server (its clock decides) rather than guess.
  useEffect(() => {
    if (status === 'open' && left === undefined) check();
  }, [status, left === undefined]);

  useEffect(() => {
    if (status === 'open') return;
    next_button.current?.querySelector<HTMLElement>('.btn')?.focus();
    if (status !== 'paid') return;
    tillDraft.value = { amount: '', memo: '' };
    const timer = setTimeout(() => route('/shop', true), paid_return_ms);
    return () => clearTimeout(timer);
  }, [status]);

  const cancel = async () => {
    setBusy('cancel');
    setError(undefined);
    try {
      const answer = await shopApi.post('/payment-requests/{id}/cancel', { path: { id: current.id } });
      if (answer.status === 'cancelled') {
        tillNotice.current = 'cancelled';
        route('/shop', true);
        return;
      }
      set(answer);
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === 'already_paid') set({ ...current, status: 'paid' });
      else if (caught instanceof ApiError && caught.code === 'expired') set({ ...current, status: 'expired' });
      else setError(caught);
      check();
    } finally {
      setBusy(undefined);
    }
  };

  const askAgain = async () => {
    setBusy('again');
    setError(undefined);
    try {
      const request = await requestPayment(current.amount, current.memo ?? '');
      route(`/shop/request/${request.id}`, true);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(undefined);
    }
  };

  const title = {
    open: t('shop.qr_title'),
    paid: t('shop.qr_paid'),
    expired: t('shop.qr_expired_title'),
    cancelled: t('shop.qr_cancelled_title'),
  }[status];

  return (
    <ShopScreen title={title} testid="shop-payment" nav={false}>
      <div class="payment" data-testid="payment-status" data-status={status} data-live={live}>
        {status === 'open' && (
          <div class="qr-layout">
            <QrCode text={current.pay_url} size={size} testid="payment-qr" label={t('shop.qr_label', { amount, shop: current.shop.name })} />
            <div class="qr-info">
              <p class="qr-shop" data-testid="payment-shop">{current.shop.name}</p>
              <p class="qr-amount" data-testid="payment-amount" data-amount={current.amount}>{amount}</p>
              {current.memo !== null && current.memo !== '' && <p class="qr-memo" data-testid="payment-memo">{current.memo}</p>}
              <p class="qr-instruction">
                <Icon name="scan" size={28} />
                <span>{t('shop.qr_instruction')}</span>
              </p>
              <p class={`countdown qr-countdown ${left !== undefined && new Date(current.expires_at).getTime() - now < 30_000 ? 'qr-countdown-soon' : ''}`}
                data-testid="payment-countdown">
                <Icon name="clock" />
                <span>{left === undefined ? t('shop.qr_checking') : t('shop.qr_expires_in', { time: left })}</span>
              </p>
              <div class="qr-waiting" role="status">
                <span class="spinner" aria-hidden="true" />
                <span>{t('shop.qr_waiting')}</span>
              </div>
              {error !== undefined && <ProblemAlert error={error} testid="payment-error" />}
              <Button variant="secondary" icon="x" disabled={busy !== undefined} onClick={() => void cancel()} data-testid="payment-cancel">
                {t('shop.qr_cancel')}
              </Button>
            </div>
          </div>
        )}
        {status === 'paid' && (
          <div class="stack center">
            <div class="celebration qr-paid" role="status" data-testid="payment-paid">
              <span class="celebration-icon"><Icon name="check" size={80} /></span>
              <p class="celebration-title">{t('shop.qr_paid')} ✓</p>
              <p class="celebration-amount" data-testid="payment-paid-amount" data-amount={current.amount}>{amount}</p>
              <p class="celebration-activity">{t('shop.qr_paid_body', { shop: current.shop.name })}</p>
            </div>
            <div ref={next_button} class="qr-next">
              <Button big icon="coins" onClick={() => route('/shop', true)} data-testid="payment-new">{t('shop.qr_next')}</Button>
              <p class="hint">{t('shop.qr_returning')}</p>
            </div>
          </div>
        )}
        {(status === 'expired' || status === 'cancelled') && (
          <div class="stack">
            <Alert kind="warning" icon={status === 'expired' ? 'clock' : 'x'} title={title} data-testid={status === 'expired' ? 'payment-expired' : 'payment-cancelled'}>
              <p>{status === 'expired' ? t('shop.qr_expired_body', { amount }) : t('shop.qr_cancelled_body', { amount })}</p>
            </Alert>
            {error !== undefined && <ProblemAlert error={error} testid="payment-error" />}
            <div ref={next_button} class="actions actions-row">
              <Button big icon="refresh" disabled={busy !== undefined} onClick={() => void askAgain()} data-testid="payment-retry">
                {t('shop.qr_ask_again', { amount })}
              </Button>
              <Button big variant="secondary" icon="coins" disabled={busy !== undefined} onClick={() => route('/shop', true)} data-testid="payment-back">
                {t('shop.qr_back')}
              </Button>
            </div>
            {busy === 'again' && <Loading label={t('shop.request_busy')} />}
          </div>
        )}
      </div>
    </ShopScreen>
  );
}

/** /shop/request/<id>: the QR of a payment request (also after a reload of the tablet). */
export function RequestRoute() {
  const { params } = useRoute();
  const { route } = useLocation();
  const id = params.id ?? '';
  const [loaded, setLoaded] = useState<{ id: string; request?: PaymentRequest; error?: unknown } | undefined>(undefined);
  const handed = justRequested.current?.id === id ? justRequested.current : undefined;
  const request = handed ?? (loaded?.id === id ? loaded.request : undefined);
  const error = loaded?.id === id ? loaded.error : undefined;

  const load = () => {
    setLoaded(undefined);
    publicApi.get('/payment-requests/{id}', { path: { id } }).then(
      (found) => setLoaded({ id, request: found }),
      (caught: unknown) => setLoaded({ id, error: caught }),
    );
  };
  useEffect(() => {
    if (handed === undefined) load();
  }, [id]);

  if (request !== undefined) return <PaymentQr key={request.id} initial={request} />;
  return (
    <ShopScreen title={t('shop.qr_title')} testid="shop-payment" nav={false}>
      {error === undefined ? <Loading /> : (
        <>
          <ProblemAlert error={error} onRetry={load} testid="payment-error"
            overrides={{ not_found: t('shop.qr_not_found'), validation_failed: t('shop.qr_not_found') }} />
          <Button big variant="secondary" icon="coins" onClick={() => route('/shop', true)} data-testid="payment-back">{t('shop.qr_back')}</Button>
        </>
      )}
    </ShopScreen>
  );
}
