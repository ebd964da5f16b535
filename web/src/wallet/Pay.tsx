import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, publicApi, walletApi } from '../api.js';
import type { ResponseOf } from '../api.js';
import { formatAmount, t } from '../i18n/index.js';
import { compare, subtract } from '../lib/money.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading, Screen } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { fetchWallet, forgetFrozen, noteMovement, walletFrozen } from './state.js';
import type { WalletState } from './state.js';

type PaymentRequest = ResponseOf<'/payment-requests/{id}', 'get'>;
type Helped = ResponseOf<'/wallet/helped', 'get'>['items'][number];

function payOverrides(): Record<string, string> {
  return {
    already_paid: t('wallet.pay_already_paid'),
    cancelled: t('wallet.pay_cancelled'),
    expired: t('wallet.pay_expired'),
    not_found: t('wallet.pay_not_found'),
    validation_failed: t('wallet.pay_not_found'),
    insufficient_funds: t('common.errors.insufficient_funds'),
    wrong_currency: t('wallet.pay_wrong_currency'),
    account_frozen: t('wallet.pay_frozen'),
    account_closed: t('wallet.pay_frozen'),
    balance_max_exceeded: t('wallet.pay_shop_full'),
    forbidden: t('wallet.pay_not_helper'),
    helper_limit_exceeded: t('wallet.pay_not_helper'),
  };
}

/** The wallets this phone's wallet may pay from: its own (value '') and those it helps. */
function PayerChoice({ wallet, helped, payer, onChange }: { wallet: WalletState; helped: Helped[]; payer: string; onChange: (payer: string) => void }) {
  const option = (value: string, label: string) => (
    <label class="choice-row" key={value}>
      <input type="radio" name="payer" value={value} checked={payer === value} onChange={() => onChange(value)} data-testid={`payer-${value === '' ? 'me' : value}`} />
      <span>{label}</span>
    </label>
  );
  return (
    <fieldset class="payer-choice" data-testid="payer-choice">
      <legend>{t('wallet.pay_from')}</legend>
      {option('', t('wallet.pay_from_me', { balance: formatAmount(wallet.balance, wallet.currency) }))}
      {helped.map((h) => option(h.wallet, t('wallet.pay_from_helped', { name: h.display_name, left: formatAmount(h.left_this_month, wallet.currency) })))}
    </fieldset>
  );
}

/** mm:ss until `until`, or undefined once past. */
function remaining(until: string, now: number): string | undefined {
  const ms = new Date(until).getTime() - now;
  if (ms <= 0) return undefined;
  const s = Math.ceil(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Paying a shop's payment QR (`/p/<id>`): shop, amount, balance now and after; one confirm pays.
 * A retry after no answer reuses the same Idempotency-Key, so the shop is paid at most once.
 */
export function Pay({ id }: { id: string }) {
  const { route } = useLocation();
  const [request, setRequest] = useState<PaymentRequest | undefined>(undefined);
  const [wallet, setWallet] = useState<WalletState | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [payError, setPayError] = useState<unknown>(undefined);
  const [paying, setPaying] = useState(false);
  const [paid, setPaid] = useState<{ balance: string | undefined } | undefined>(undefined);
  const [now, setNow] = useState(Date.now());
  const [helped, setHelped] = useState<Helped[]>([]);
  /** Who pays: '' for this wallet, else the id of a wallet it helps. */
  const [payer, setPayer] = useState('');

  const load = async () => {
    setLoadError(undefined);
    try {
      const [found, mine, helping] = await Promise.all([
        publicApi.get('/payment-requests/{id}', { path: { id } }), fetchWallet(),
        walletApi.get('/wallet/helped').catch(() => ({ items: [] as Helped[] })),
      ]);
      setRequest(found);
      setWallet(mine);
      setHelped(helping.items);
    } catch (caught) {
      setLoadError(caught);
    }
  };

  useEffect(() => { void load(); }, [id]);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  const pay = async () => {
    setPaying(true);
    setPayError(undefined);
    try {
      const body = payer === '' ? {} : { on_behalf_of: payer };
      await walletApi.post('/payment-requests/{id}/pay', { path: { id }, body, idempotent: payer === '' ? `pay:${id}` : `pay:${id}:${payer}` });
      noteMovement(undefined);
      const after = await fetchWallet().catch(() => undefined);
      // Paid from a wallet it helps: its own balance did not change, so it is not shown as new.
      setPaid({ balance: payer === '' ? after?.balance : undefined });
    } catch (caught) {
      noteMovement(caught);
      setPayError(caught);
      if (caught instanceof ApiError && !caught.retryable) void load();
    } finally {
      setPaying(false);
    }
  };

  const home = () => route('/wallet', true);
  const screen = (body: ComponentChildren) => (
    <Screen title={t('wallet.pay_title')} back="/wallet" area={{ icon: 'wallet', label: t('wallet.title') }} testid="wallet-pay">
      {body}
    </Screen>
  );

  if (loadError !== undefined) {
    return screen(<>
      <ProblemAlert error={loadError} overrides={payOverrides()} onRetry={() => void load()} testid="pay-error" />
      <Button big variant="secondary" icon="wallet" onClick={home}>{t('wallet.back_home')}</Button>
    </>);
  }
  if (request === undefined || wallet === undefined) return screen(<Loading label={t('wallet.pay_loading')} />);

  if (paid !== undefined) {
    return screen(
      <div class="stack">
        <div class="celebration" role="status" data-testid="pay-success">
          <span class="celebration-icon"><Icon name="check" size={64} /></span>
          <p class="celebration-title">{t('wallet.pay_success')} ✓</p>
          <p class="celebration-activity">{t('wallet.pay_success_body', { amount: formatAmount(request.amount, request.currency), shop: request.shop.name })}</p>
          {paid.balance !== undefined && (
            <p class="celebration-balance" data-testid="pay-balance">{t('wallet.new_balance', { amount: formatAmount(paid.balance, wallet.currency) })}</p>
          )}
        </div>
        <Button big icon="wallet" onClick={home} data-testid="back-home">{t('wallet.back_home')}</Button>
      </div>,
    );
  }

  const left = remaining(request.expires_at, now);
  const status = request.status === 'open' && left === undefined ? 'expired' : request.status;
  const same_currency = request.currency === wallet.currency;
  const helping = helped.find((h) => h.wallet === payer);
  const balance = helping?.available ?? wallet.balance;
  const enough = same_currency && compare(balance, request.amount) >= 0;
  const over_limit = helping !== undefined && compare(helping.left_this_month, request.amount) < 0;
  /** A paid, cancelled or expired request shows only its status, not the balance as if paying again. */
  const final_status: string | undefined =
    status === 'paid' ? t('wallet.pay_status_paid')
    : status === 'cancelled' ? t('wallet.pay_status_cancelled')
    : status === 'expired' ? t('wallet.pay_status_expired')
    : undefined;
  const blocked: string | undefined =
    status === 'paid' ? t('wallet.pay_already_paid')
    : status === 'cancelled' ? t('wallet.pay_cancelled')
    : status === 'expired' ? t('wallet.pay_expired')
    : walletFrozen.value ? t('wallet.pay_frozen')
    : !same_currency ? t('wallet.pay_wrong_currency')
    : !enough ? t('wallet.pay_insufficient', { balance: formatAmount(balance, wallet.currency), amount: formatAmount(request.amount, request.currency) })
    : over_limit ? t('wallet.pay_helper_limit', { left: formatAmount(helping.left_this_month, wallet.currency) })
    : undefined;

  return screen(
    <div class="stack">
      <dl class="pay-summary" data-testid="pay-summary">
        <div class="pay-shop">
          <dt><Icon name="shop" /><span>{t('wallet.pay_to')}</span></dt>
          <dd data-testid="pay-shop">{request.shop.name}</dd>
        </div>
        <div class="pay-amount">
          <dt><Icon name="coins" /><span>{t('wallet.pay_amount')}</span></dt>
          <dd data-testid="pay-amount" data-amount={request.amount}>{formatAmount(request.amount, request.currency)}</dd>
        </div>
        {request.memo !== null && request.memo !== '' && (
          <div>
            <dt>{t('wallet.pay_memo')}</dt>
            <dd>{request.memo}</dd>
          </div>
        )}
        {final_status !== undefined ? (
          <div>
            <dt>{t('wallet.pay_status')}</dt>
            <dd data-testid="pay-status" data-status={status}>{final_status}</dd>
          </div>
        ) : (
          <>
            <div>
              <dt>{helping === undefined ? t('wallet.pay_balance_now') : t('wallet.pay_balance_of_now', { name: helping.display_name })}</dt>
              <dd data-testid="pay-balance-now">{formatAmount(balance, wallet.currency)}</dd>
            </div>
            {blocked === undefined && (
              <div>
                <dt>{helping === undefined ? t('wallet.pay_balance_after') : t('wallet.pay_balance_of_after', { name: helping.display_name })}</dt>
                <dd data-testid="pay-balance-after">{formatAmount(subtract(balance, request.amount), wallet.currency)}</dd>
              </div>
            )}
          </>
        )}
      </dl>
      {final_status === undefined && same_currency && helped.length > 0 && (
        <PayerChoice wallet={wallet} helped={helped} payer={payer} onChange={(next) => { setPayer(next); setPayError(undefined); }} />
      )}
      {blocked === undefined && left !== undefined && (
        <p class="countdown" data-testid="pay-countdown"><Icon name="clock" /><span>{t('wallet.pay_expires_in', { time: left })}</span></p>
      )}
      {payError !== undefined && blocked === undefined && <ProblemAlert error={payError} overrides={payOverrides()} testid="pay-error" />}
      {blocked !== undefined ? (
        <>
          <Alert kind="error" data-testid="pay-blocked">{blocked}</Alert>
          <Button big variant="secondary" icon="wallet" onClick={home} data-testid="back-home">{t('wallet.back_home')}</Button>
          {final_status === undefined && walletFrozen.value && (
            // The wallet cannot learn that it was unfrozen: this offers the payment again.
            <Button variant="ghost" icon="refresh" onClick={() => { forgetFrozen(); setPayError(undefined); }} data-testid="pay-frozen-retry">
              {t('wallet.frozen_retry')}
            </Button>
          )}
        </>
      ) : (
        <>
          {paying && <Loading label={t('wallet.pay_paying')} />}
          <Button big icon="check" disabled={paying} onClick={() => void pay()} data-testid="pay-confirm">
            {t('wallet.pay_confirm', { amount: formatAmount(request.amount, request.currency) })}
          </Button>
          <Button variant="ghost" icon="x" disabled={paying} onClick={home} data-testid="pay-cancel">{t('common.cancel')}</Button>
        </>
      )}
    </div>,
  );
}
