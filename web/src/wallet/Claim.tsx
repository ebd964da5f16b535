import { useEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, walletApi } from '../api.js';
import type { ResponseOf } from '../api.js';
import { formatAmount, localizedName, t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading, Screen } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { fetchWallet, noteMovement, walletInfo } from './state.js';

type Reward = ResponseOf<'/claims', 'post'>;

interface Celebration {
  amount: string;
  currency: string;
  activity: string | undefined;
  balance: string | undefined;
}

/** Turns a claim problem into the words a volunteer needs (what happened, what to do). */
function claimOverrides(error: unknown): Record<string, string> {
  const left = error instanceof ApiError && typeof error.extra.left === 'string' ? error.extra.left : '0';
  const currency = walletInfo.value?.currency;
  const left_text = currency === undefined ? left : formatAmount(left, currency);
  const period_year = error instanceof ApiError && error.extra.period === 'year';
  return {
    already_claimed: t('wallet.claim_already'),
    expired: t('wallet.claim_expired'),
    session_full: t('wallet.claim_full'),
    session_closed: t('wallet.claim_closed'),
    invalid_token: t('wallet.claim_invalid'),
    validation_failed: t('wallet.claim_invalid'),
    not_found: t('wallet.claim_invalid'),
    volunteer_cap_exceeded: period_year ? t('wallet.claim_cap_year', { left: left_text }) : t('wallet.claim_cap_day', { left: left_text }),
    balance_max_exceeded: t('wallet.claim_balance_max'),
    wrong_currency: t('wallet.claim_wrong_currency'),
    insufficient_funds: t('wallet.claim_no_money'),
  };
}

/**
 * Claims a session's coins with the token of its QR code (`/claim#<token>`), then celebrates:
 * the amount, the activity in the wallet's language, the new balance.
 */
export function Claim({ token }: { token: string }) {
  const { route } = useLocation();
  const [celebration, setCelebration] = useState<Celebration | undefined>(undefined);
  const { busy, error, run } = useAction();
  const started = useRef(false);

  const claim = () => run(async () => {
    const reward: Reward = await walletApi.post('/claims', { body: { token }, idempotent: `claim:${token}` }).catch((caught: unknown) => {
      noteMovement(caught);
      throw caught;
    });
    noteMovement(reward);
    // The activity's name in every language is on the wallet's history entry.
    const [wallet, page] = await Promise.all([
      fetchWallet().catch(() => undefined),
      walletApi.get('/wallet/entries', { query: { limit: 10 } }).catch(() => undefined),
    ]);
    const entry = page?.items.find((item) => item.transfer_id === reward.id);
    setCelebration({
      amount: reward.amount,
      currency: reward.currency,
      activity: entry?.activity != null ? localizedName(entry.activity.name) : (reward.memo ?? undefined),
      balance: wallet?.balance,
    });
  });

  useEffect(() => {
    if (started.current || token === '') return;
    started.current = true;
    void claim();
  }, [token]);

  const home = () => route('/wallet', true);

  return (
    <Screen title={t('wallet.claim_title')} back="/wallet" area={{ icon: 'wallet', label: t('wallet.title') }} testid="wallet-claim">
      {token === '' && <Alert kind="error">{t('wallet.claim_invalid')}</Alert>}
      {busy && <Loading label={t('wallet.claiming')} />}
      {celebration !== undefined && (
        <div class="celebration" role="status" data-testid="claim-success">
          <span class="celebration-icon"><Icon name="star" size={64} /></span>
          <p class="celebration-title">{t('wallet.claim_success')}</p>
          <p class="celebration-amount" data-testid="claim-amount" data-amount={celebration.amount}>
            {t('wallet.claim_received', { amount: formatAmount(celebration.amount, celebration.currency, { signed: true }) })}
          </p>
          {celebration.activity !== undefined && (
            <p class="celebration-activity" data-testid="claim-activity">{t('wallet.claim_for', { activity: celebration.activity })}</p>
          )}
          {celebration.balance !== undefined && (
            <p class="celebration-balance" data-testid="claim-balance">{t('wallet.new_balance', { amount: formatAmount(celebration.balance, celebration.currency) })}</p>
          )}
        </div>
      )}
      {error !== undefined && <ProblemAlert error={error} overrides={claimOverrides(error)} onRetry={() => void claim()} testid="claim-error" />}
      {!busy && (
        <Button big variant={celebration !== undefined ? 'primary' : 'secondary'} icon="wallet" onClick={home} data-testid="back-home">
          {t('wallet.back_home')}
        </Button>
      )}
    </Screen>
  );
}
