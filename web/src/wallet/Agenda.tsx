/**
 * What can I do? The currency's public agenda (GET /currencies/{code}/agenda, no login): the
 * next three sessions on the wallet's home ("Meedoen"), all of them on /wallet/agenda. And what
 * the volunteer may still earn under the legal caps, shown on the home once less than a quarter
 * of a cap is left.
 */
import { useEffect, useState } from 'preact/hooks';
import { publicApi } from '../api.js';
import type { ResponseOf } from '../api.js';
import { formatAmount, formatDate, localizedName, t } from '../i18n/index.js';
import { compare, multiply, scaleOf } from '../lib/money.js';
import { Alert } from '../ui/Alert.js';
import { LinkButton } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading, Screen } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { walletInfo } from './state.js';
import type { WalletState } from './state.js';

type AgendaItem = ResponseOf<'/currencies/{code}/agenda', 'get'>['items'][number];

/** How many sessions the home shows. */
const join_in_max = 3;

function useAgenda(code: string | undefined, limit?: number) {
  const [items, setItems] = useState<AgendaItem[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const load = async () => {
    if (code === undefined) return;
    try {
      const answer = await publicApi.get('/currencies/{code}/agenda', { path: { code }, query: limit === undefined ? {} : { limit } });
      setItems(answer.items);
      setError(undefined);
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => { void load(); }, [code, limit]);
  return { items, error, reload: load };
}

/** "12 mrt. 14:00 tot 17:00": the end as a time when it is the same day, else in full. */
function whenOf(item: AgendaItem): string {
  const start = formatDate(item.starts_at, 'short');
  if (item.ends_at === null) return start;
  const same_day = new Date(item.starts_at).toDateString() === new Date(item.ends_at).toDateString();
  return t('wallet.agenda_until', { start, end: formatDate(item.ends_at, same_day ? 'time' : 'short') });
}

function AgendaRow({ item, currency }: { item: AgendaItem; currency: string }) {
  return (
    <li class="entry agenda-item" data-testid="agenda-item" data-session={item.session}>
      <span class="entry-icon entry-in"><Icon name="people" /></span>
      <span class="entry-text">
        <span class="entry-title" data-testid="agenda-name">{localizedName(item.activity)}</span>
        <span class="entry-meta">
          <time dateTime={item.starts_at} data-testid="agenda-when">{whenOf(item)}</time>
          {item.place !== null && <span data-testid="agenda-place">{' · '}{item.place}</span>}
        </span>
      </span>
      <span class="entry-amount amount-in" data-testid="agenda-reward" data-amount={item.reward}>
        {formatAmount(item.reward, currency, { signed: true })}
      </span>
    </li>
  );
}

function AgendaList({ items, currency, testid }: { items: AgendaItem[]; currency: string; testid: string }) {
  if (items.length === 0) return <p class="muted" data-testid={`${testid}-empty`}>{t('wallet.join_empty')}</p>;
  return (
    <ul class="entries" data-testid={testid}>
      {items.map((item) => <AgendaRow key={item.session} item={item} currency={currency} />)}
    </ul>
  );
}

/** "Meedoen" on the wallet's home: the next three public sessions and a link to all of them. */
export function JoinIn({ currency }: { currency: string }) {
  const { items, error, reload } = useAgenda(currency, join_in_max);
  return (
    <section aria-labelledby="join-title" data-testid="join-in">
      <h2 id="join-title">
        <Icon name="people" />
        <span>{t('wallet.join_title')}</span>
      </h2>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void reload()} />}
      {items === undefined ? (error === undefined && <Loading />) : <AgendaList items={items} currency={currency} testid="join-list" />}
      {items !== undefined && items.length > 0 && (
        <LinkButton href="/wallet/agenda" variant="secondary" icon="clock" data-testid="agenda-all">{t('wallet.join_all')}</LinkButton>
      )}
    </section>
  );
}

/** /wallet/agenda: every upcoming public session of the wallet's currency. */
export function AgendaPage() {
  const info = walletInfo.value;
  const { items, error, reload } = useAgenda(info?.currency);
  return (
    <Screen title={t('wallet.agenda_title')} back="/wallet" area={{ icon: 'wallet', label: info?.display_name ?? t('wallet.title') }} testid="wallet-agenda">
      <p>{t('wallet.agenda_intro')}</p>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void reload()} />}
      {info !== undefined && (items === undefined ? (error === undefined && <Loading />) : <AgendaList items={items} currency={info.currency} testid="agenda-list" />)}
    </Screen>
  );
}

/** True when less than a quarter of `cap` is left. */
function belowQuarter(left: string, cap: string): boolean {
  return compare(multiply(left, '4', scaleOf(left)), cap) < 0;
}

/** What may still be earned today and this year, once less than a quarter of a cap is left. */
export function EarningRoomNotice({ wallet }: { wallet: WalletState }) {
  const room = wallet.earning_room;
  if (room === null) return null;
  const periods = [
    { period: 'day' as const, left: room.day, cap: room.cap_day },
    { period: 'year' as const, left: room.year, cap: room.cap_year },
  ].filter((p): p is { period: 'day' | 'year'; left: string; cap: string } => p.left !== null && p.cap !== null && belowQuarter(p.left, p.cap));
  if (periods.length === 0) return null;
  return (
    <Alert kind="info" icon="coins" data-testid="earning-room">
      {periods.map(({ period, left }) => (
        <p key={period} class="expiring-line" data-testid={`earning-room-${period}`} data-amount={left}>
          {compare(left, '0') <= 0
            ? t(period === 'day' ? 'wallet.room_day_none' : 'wallet.room_year_none')
            : t(period === 'day' ? 'wallet.room_day' : 'wallet.room_year', { amount: formatAmount(left, wallet.currency) })}
        </p>
      ))}
      <p class="expiring-hint">{t('wallet.room_hint')}</p>
    </Alert>
  );
}
