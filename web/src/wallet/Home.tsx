import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, walletApi } from '../api.js';
import type { ResponseOf } from '../api.js';
import { formatAmount, formatDate, formatDay, localizedName, t, tMaybe } from '../i18n/index.js';
import { isNegative } from '../lib/money.js';
import { online } from '../lib/online.js';
import { usePagedList } from '../lib/paging.js';
import { Button, LinkButton } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading, Screen } from '../ui/Layout.js';
import { Alert } from '../ui/Alert.js';
import { ProblemAlert } from '../ui/problem.js';
import { closeWallet, fetchWallet, knownHistory, lastKnown, rememberHistory, walletFrozen, walletInfo } from './state.js';
import { EarningRoomNotice, JoinIn } from './Agenda.js';
import type { WalletEntry, WalletState } from './state.js';

const page_size = 20;

/** The coordinator's reason for a correction or an adjustment: the holder reads why their coins moved. */
function reasonOf(entry: WalletEntry): string | undefined {
  const memo = entry.memo?.trim() ?? '';
  if (memo === '') return undefined;
  if (entry.code === 'reversal') return t('wallet.correction', { reason: memo });
  return entry.code === 'adjustment' ? memo : undefined;
}

/**
 * A payment this wallet's holder made as a helper, from a wallet they help (#20 point 4): named
 * for whom and where, its amount apart from this wallet's own (it did not change its balance).
 */
function ForOtherRow({ entry, currency }: { entry: WalletEntry; currency: string }) {
  const volunteer = entry.on_behalf?.volunteer.name ?? '';
  return (
    <li class="entry entry-for-other" data-testid="entry" data-code={entry.code} data-transfer={entry.transfer_id} data-for-other="true"
      data-reversed={String(entry.reversed)}>
      <span class="entry-icon entry-other"><Icon name="people" /></span>
      <span class="entry-text">
        <span class="entry-title" data-testid="entry-for-other">{t('wallet.paid_for_at', { volunteer, shop: entry.counterparty.name })}</span>
        <span class="entry-reason" data-testid="entry-not-from-balance">{t('wallet.not_from_balance')}</span>
        <span class="entry-meta">
          {tMaybe(`common.transfer_codes.${entry.code}`) ?? entry.code}
          {' · '}
          <time dateTime={entry.created_at}>{formatDate(entry.created_at, 'short')}</time>
          {entry.reversed && <span data-testid="entry-corrected">{' · '}{t('wallet.corrected')}</span>}
        </span>
      </span>
      <span class="entry-amount amount-other">{formatAmount(entry.amount.replace(/^-/, ''), currency)}</span>
    </li>
  );
}

function EntryRow({ entry, currency }: { entry: WalletEntry; currency: string }) {
  if (entry.for_other) return <ForOtherRow entry={entry} currency={currency} />;
  const out = isNegative(entry.amount);
  const title = entry.activity !== null ? localizedName(entry.activity.name)
    : entry.counterparty.kind === 'issuance' ? t('common.counterparty_issuance') : entry.counterparty.name;
  const kind = tMaybe(`common.transfer_codes.${entry.code}`) ?? entry.code;
  const reason = reasonOf(entry);
  const on_behalf = entry.on_behalf === null ? undefined
    : t('wallet.paid_by_for', { helper: entry.on_behalf.helper.name, volunteer: entry.on_behalf.volunteer.name });
  return (
    <li class="entry" data-testid="entry" data-code={entry.code} data-transfer={entry.transfer_id} data-reversed={String(entry.reversed)}>
      <span class={`entry-icon ${out ? 'entry-out' : 'entry-in'}`}>
        <Icon name={out ? 'arrow-out' : 'arrow-in'} />
      </span>
      <span class="entry-text">
        <span class="entry-title">{title}</span>
        {reason !== undefined && <span class="entry-reason" data-testid="entry-reason">{reason}</span>}
        {on_behalf !== undefined && <span class="entry-reason" data-testid="entry-on-behalf">{on_behalf}</span>}
        <span class="entry-meta">
          {kind}
          {' · '}
          <time dateTime={entry.created_at}>{formatDate(entry.created_at, 'short')}</time>
          {entry.reversed && <span data-testid="entry-corrected">{' · '}{t('wallet.corrected')}</span>}
        </span>
      </span>
      <span class={`entry-amount ${out ? 'amount-out' : 'amount-in'}`}>
        {formatAmount(entry.amount, currency, { signed: true })}
      </span>
    </li>
  );
}

/** How many days ahead the home tells of coins that expire, and how many dates it lists at most. */
const expiring_notice_days = 30;
const expiring_notice_max = 3;

/** The local day (YYYY-MM-DD) `days` after today on this device. */
function dayAhead(days: number): string {
  const date = new Date();
  date.setDate(date.getDate() + days);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

/** Coins that expire within 30 days: up to three dates, soonest first; nothing when none do. */
function ExpiringNotice({ wallet }: { wallet: WalletState }) {
  const limit = dayAhead(expiring_notice_days);
  const soon = wallet.expiring.filter((lot) => lot.on <= limit).slice(0, expiring_notice_max);
  if (soon.length === 0) return null;
  return (
    <Alert kind="info" icon="clock" data-testid="expiring">
      {soon.map((lot) => (
        <p key={lot.on} class="expiring-line" data-testid="expiring-line" data-amount={lot.amount} data-on={lot.on}>
          {t(/^0*1(\.0*)?$/.test(lot.amount) ? 'wallet.expiring_one' : 'wallet.expiring', {
            amount: formatAmount(lot.amount, wallet.currency),
            date: formatDay(lot.on),
          })}
        </p>
      ))}
      <p class="expiring-hint">{t('wallet.expiring_hint')}</p>
    </Alert>
  );
}

/**
 * While the history cannot be read: the entries last read on this phone, with when that was,
 * or — offline, with none kept — why there is nothing to show.
 */
function KnownHistory({ error }: { error: unknown }) {
  const known = knownHistory.value;
  if (known === undefined) {
    if (!(error instanceof ApiError && error.status === 0)) return null;
    return <p class="muted" data-testid="history-unknown">{t('wallet.history_unknown')}</p>;
  }
  return (
    <>
      <p class="muted" data-testid="history-as-of" data-at={known.at}>{t('wallet.history_as_of', { time: formatDate(known.at, 'datetime') })}</p>
      {known.items.length === 0
        ? <p class="muted" data-testid="history-empty">{t('wallet.history_empty')}</p>
        : (
          <ul class="entries" data-testid="history" data-known="true">
            {known.items.map((entry) => <EntryRow key={entry.transfer_id} entry={entry} currency={known.currency} />)}
          </ul>
        )}
    </>
  );
}

/** The history, newest first, page by page; the last known one while it cannot be read. */
function History({ history, currency }: { history: ReturnType<typeof usePagedList<WalletEntry>>; currency: string | undefined }) {
  const { items: entries, error } = history;
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">
        <Icon name="clock" />
        <span>{t('wallet.history')}</span>
      </h2>
      {entries === undefined && error === undefined && <Loading />}
      {entries === undefined && error !== undefined && <KnownHistory error={error} />}
      {entries !== undefined && entries.length === 0 && <p class="muted" data-testid="history-empty">{t('wallet.history_empty')}</p>}
      {entries !== undefined && entries.length > 0 && currency !== undefined && (
        <ul class="entries" data-testid="history">
          {entries.map((entry) => <EntryRow key={entry.transfer_id} entry={entry} currency={currency} />)}
        </ul>
      )}
      {history.hasMore && (
        <Button variant="secondary" icon="refresh" disabled={history.loadingMore} onClick={() => void history.more()} data-testid="load-more">
          {t('wallet.load_more')}
        </Button>
      )}
    </section>
  );
}

type Helped = ResponseOf<'/wallet/helped', 'get'>['items'][number];

/** The wallets this one helps, with what it may still pay from each this month; nothing when it helps none. */
function HelpedList({ currency }: { currency: string }) {
  const [helped, setHelped] = useState<Helped[] | undefined>(undefined);
  useEffect(() => {
    walletApi.get('/wallet/helped').then((page) => setHelped(page.items), () => setHelped(undefined));
  }, []);
  if (helped === undefined || helped.length === 0) return null;
  return (
    <section aria-labelledby="helped-title" data-testid="helped">
      <h2 id="helped-title">
        <Icon name="people" />
        <span>{t('wallet.helped_title')}</span>
      </h2>
      <ul class="helped-list">
        {helped.map((h) => (
          <li key={h.wallet} data-testid="helped-item" data-left={h.left_this_month}>
            {t('wallet.helped_item', { name: h.display_name, left: formatAmount(h.left_this_month, currency) })}
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A page of the history; the first one is kept on the phone for when the server cannot be reached. */
async function readEntries(cursor: string | undefined) {
  const page = await walletApi.get('/wallet/entries', { query: { limit: page_size, cursor } });
  if (cursor === undefined) rememberHistory(page.items);
  return page;
}

/** The wallet's home: balance, Scan, My card and Receive, what to join (Meedoen), whom it helps, history, change PIN, log out. */
export function Home() {
  const { route } = useLocation();
  const [wallet, setWallet] = useState<WalletState | undefined>(undefined);
  const history = usePagedList(readEntries, async () => setWallet(await fetchWallet()));
  const { error, reload: load } = history;

  useEffect(() => { void load(); }, []);
  // Back online: fetch again instead of showing an old balance.
  useEffect(() => {
    if (online.value && error !== undefined) void load();
  }, [online.value]);

  const name = wallet?.display_name ?? walletInfo.value?.display_name ?? '';
  const shown = wallet ?? (error !== undefined ? lastKnown.value : undefined);

  return (
    <Screen title={t('wallet.title')} area={{ icon: 'wallet', label: name }} testid="wallet-home">
      <p class="greeting" data-testid="greeting">{t('wallet.hello', { name })}</p>
      <section class="balance-card" aria-labelledby="balance-label" data-testid="balance-card">
        <p id="balance-label" class="balance-label">
          {wallet === undefined && shown !== undefined
            ? t('wallet.balance_last_known', { time: formatDate(lastKnown.value?.at ?? new Date(), 'datetime') })
            : t('wallet.balance')}
        </p>
        {shown !== undefined
          ? <p class="balance" data-testid="balance" data-amount={shown.balance}>{formatAmount(shown.balance, shown.currency)}</p>
          : error === undefined && <Loading />}
      </section>
      {walletFrozen.value && (
        <Alert kind="warning" icon="lock" title={t('wallet.frozen_title')} data-testid="wallet-frozen">
          <p>{t('wallet.frozen_body')}</p>
        </Alert>
      )}
      {error !== undefined && (error instanceof ApiError && error.status === 0 && !online.value
        // Offline: the banner says so; a way to try again is enough here.
        ? <Button variant="secondary" icon="refresh" onClick={() => void load()} data-testid="retry">{t('common.retry')}</Button>
        : <ProblemAlert error={error} onRetry={() => void load()} />)}
      <div class="actions">
        <Button big icon="scan" onClick={() => route('/wallet/scan')} data-testid="scan">
          {t('wallet.scan')}
          <small class="btn-hint">{t('wallet.scan_hint')}</small>
        </Button>
        <LinkButton href="/wallet/card" big variant="secondary" icon="card" data-testid="my-card">
          {t('wallet.my_card')}
          <small class="btn-hint">{t('wallet.my_card_hint')}</small>
        </LinkButton>
        {wallet?.gifts_enabled === true && (
          <LinkButton href="/wallet/receive" big variant="secondary" icon="arrow-in" data-testid="receive">
            {t('wallet.receive')}
            <small class="btn-hint">{t('wallet.receive_hint')}</small>
          </LinkButton>
        )}
      </div>
      {/* Below the buttons, so they stay on a small phone's screen with the frozen notice above them. */}
      {wallet !== undefined && <ExpiringNotice wallet={wallet} />}
      {wallet !== undefined && <EarningRoomNotice wallet={wallet} />}
      {(wallet?.currency ?? walletInfo.value?.currency) !== undefined && <JoinIn currency={wallet?.currency ?? walletInfo.value?.currency ?? ''} />}
      {wallet !== undefined && <HelpedList currency={wallet.currency} />}
      <History history={history} currency={wallet?.currency} />
      <LinkButton href="/wallet/pin" variant="secondary" icon="lock" data-testid="change-pin">{t('wallet.pin_change')}</LinkButton>
      <Button variant="ghost" icon="logout" onClick={() => void closeWallet().then(() => route('/wallet', true))} data-testid="logout">
        {t('wallet.logout')}
      </Button>
    </Screen>
  );
}
