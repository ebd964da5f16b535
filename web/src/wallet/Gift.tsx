import type { ComponentChildren } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, walletApi } from '../api.js';
import { formatAmount, t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading, Screen } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { fetchWallet, noteMovement } from './state.js';
import type { WalletState } from './state.js';

/** What the giver typed as an amount, as the API takes it ("2,5" → "2.5"); undefined when it is not one. */
export function giftAmount(typed: string): string | undefined {
  const text = typed.trim().replace(',', '.');
  return /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})?$/.test(text) && /[1-9]/.test(text) ? text : undefined;
}

/** The words a giver needs for a refused gift. */
function giftOverrides(error: unknown, name: string, currency: string | undefined): Record<string, string> {
  const left = error instanceof ApiError && typeof error.extra.left === 'string' ? error.extra.left : '0';
  return {
    gifts_disabled: t('wallet.gift_disabled'),
    gift_limit_exceeded: t('wallet.gift_limit', { left: currency === undefined ? left : formatAmount(left, currency) }),
    receive_code_unknown: t('wallet.gift_unknown'),
    same_account: t('wallet.gift_self'),
    insufficient_funds: t('common.errors.insufficient_funds'),
    balance_max_exceeded: t('wallet.gift_receiver_full', { name }),
    account_frozen: t('wallet.gift_frozen'),
    validation_failed: t('wallet.gift_amount_invalid'),
  };
}

/**
 * Giving coins to the wallet of a scanned receive QR (`/r/<code>`): who it goes to, how many,
 * an optional message; one button gives. A retry after no answer reuses the Idempotency-Key.
 */
export function Gift({ code }: { code: string }) {
  const { route } = useLocation();
  const [receiver, setReceiver] = useState<string | undefined>(undefined);
  const [wallet, setWallet] = useState<WalletState | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [typed, setTyped] = useState('');
  const [memo, setMemo] = useState('');
  const [invalid, setInvalid] = useState(false);
  const [given, setGiven] = useState<{ amount: string; balance: string | undefined } | undefined>(undefined);
  const { busy, error, run } = useAction();
  const amount_id = useId();
  const memo_id = useId();

  const load = async () => {
    setLoadError(undefined);
    try {
      const [found, mine] = await Promise.all([walletApi.get('/wallet/receivers/{code}', { path: { code } }), fetchWallet()]);
      setReceiver(found.display_name);
      setWallet(mine);
    } catch (caught) {
      setLoadError(caught);
    }
  };
  useEffect(() => { void load(); }, [code]);

  const give = (amount: string) => run(async () => {
    const body = { to: code, amount, ...(memo.trim() === '' ? {} : { memo: memo.trim() }) };
    const gift = await walletApi.post('/wallet/gifts', { body, idempotent: `gift:${code}:${amount}:${memo.trim()}` }).catch((caught: unknown) => {
      noteMovement(caught);
      throw caught;
    });
    noteMovement(gift);
    const after = await fetchWallet().catch(() => undefined);
    setGiven({ amount: gift.amount, balance: after?.balance });
  });

  const submit = (event: Event) => {
    event.preventDefault();
    const amount = giftAmount(typed);
    setInvalid(amount === undefined);
    if (amount !== undefined) void give(amount);
  };

  const home = () => route('/wallet', true);
  const name = receiver ?? '';
  const currency = wallet?.currency;
  const screen = (body: ComponentChildren) => (
    <Screen title={t('wallet.gift_title')} back="/wallet" area={{ icon: 'wallet', label: t('wallet.title') }} testid="wallet-gift">{body}</Screen>
  );

  if (loadError !== undefined) {
    return screen(<>
      <ProblemAlert error={loadError} overrides={giftOverrides(loadError, name, currency)} onRetry={() => void load()} testid="gift-error" />
      <Button big variant="secondary" icon="wallet" onClick={home} data-testid="back-home">{t('wallet.back_home')}</Button>
    </>);
  }
  if (receiver === undefined || wallet === undefined) return screen(<Loading />);
  if (given !== undefined) {
    return screen(
      <div class="stack">
        <div class="celebration" role="status" data-testid="gift-success">
          <span class="celebration-icon"><Icon name="check" size={64} /></span>
          <p class="celebration-title">{t('wallet.gift_success')} ✓</p>
          <p class="celebration-activity" data-testid="gift-success-body">{t('wallet.gift_success_body', { amount: formatAmount(given.amount, wallet.currency), name })}</p>
          {given.balance !== undefined && (
            <p class="celebration-balance" data-testid="gift-balance">{t('wallet.new_balance', { amount: formatAmount(given.balance, wallet.currency) })}</p>
          )}
        </div>
        <Button big icon="wallet" onClick={home} data-testid="back-home">{t('wallet.back_home')}</Button>
      </div>,
    );
  }
  const amount = giftAmount(typed);
  return screen(
    <form class="stack" onSubmit={submit}>
      <dl class="pay-summary">
        <div class="pay-shop">
          <dt><Icon name="wallet" /><span>{t('wallet.gift_to')}</span></dt>
          <dd data-testid="gift-to">{receiver}</dd>
        </div>
      </dl>
      <label class="field-label" for={amount_id}>
        <Icon name="coins" />
        <span>{t('wallet.gift_amount')}</span>
      </label>
      <input
        id={amount_id} class="code-input" type="text" inputMode="decimal" autoComplete="off" value={typed}
        aria-describedby={`${amount_id}-hint`} aria-invalid={invalid} data-testid="gift-amount"
        onInput={(event) => { setTyped(event.currentTarget.value); setInvalid(false); }}
      />
      <p class="hint" id={`${amount_id}-hint`}>{t('wallet.gift_amount_hint', { balance: formatAmount(wallet.balance, wallet.currency) })}</p>
      {invalid && <Alert kind="error" data-testid="gift-amount-invalid">{t('wallet.gift_amount_invalid')}</Alert>}
      <label class="field-label" for={memo_id}>{t('wallet.gift_memo')}</label>
      <input
        id={memo_id} type="text" maxLength={200} value={memo} aria-describedby={`${memo_id}-hint`} data-testid="gift-memo"
        onInput={(event) => setMemo(event.currentTarget.value)}
      />
      <p class="hint" id={`${memo_id}-hint`}>{t('wallet.gift_memo_hint', { name })}</p>
      {error !== undefined && <ProblemAlert error={error} overrides={giftOverrides(error, name, currency)} testid="gift-error" />}
      {busy && <Loading label={t('wallet.gift_sending')} />}
      <Button type="submit" big icon="check" disabled={busy} data-testid="gift-send">
        {amount === undefined ? t('wallet.gift_title') : t('wallet.gift_send', { amount: formatAmount(amount, wallet.currency) })}
      </Button>
      <Button type="button" variant="ghost" icon="x" disabled={busy} onClick={home} data-testid="gift-cancel">{t('common.cancel')}</Button>
    </form>,
  );
}
