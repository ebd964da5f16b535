import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { ApiError, shopApi } from '../api.js';
import { formatAmount, formatDate, t, tMaybe } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { compare, fromMinor, isNegative, toMinor } from '../lib/money.js';
import { usePagedList } from '../lib/paging.js';
import { uuid } from '../lib/uuid.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert, problemText } from '../ui/problem.js';
import { AmountPad } from './AmountPad.js';
import { addAmounts, amountForApi } from './amount.js';
import { ShopScreen } from './ShopLayout.js';
import { refreshShop, shopInfo, shopState, unpairTablet } from './state.js';
import type { ShopEntry, ShopState } from './state.js';
import { refundedByPayment } from './refunds.js';

const page_size = 20;
/** The codes whose memo a person wrote: the till's memo of a payment, a coordinator's reason for an adjustment or a correction. */
const memo_codes: ReadonlySet<string> = new Set(['payment', 'adjustment', 'reversal']);

/** Refunding part or all of one payment (POST /shop/refunds); the server has the last word. */
function RefundForm({ entry, left, scale, currency, onDone, onClose }: {
  entry: ShopEntry; left: string; scale: number; currency: string;
  onDone: (amount: string) => void; onClose: () => void;
}) {
  const [amount, setAmount] = useState(left);
  /** The whole payment is filled in: the first key pressed types a new amount instead. */
  const [prefilled, setPrefilled] = useState(true);
  const { busy, error, run } = useAction();
  /** What the server says is left of the payment, when it refused a refund as too large. */
  const [serverLeft, setServerLeft] = useState<string | undefined>(undefined);
  /** One refund = one Idempotency-Key while its answer is unknown; a second refund is a new action. */
  const action = useRef(`refund:${entry.transfer_id}:${uuid()}`);
  const hint = useId();

  const most = serverLeft ?? left;
  const to_refund = amountForApi(amount, scale);
  const too_much = to_refund !== undefined && compare(to_refund, most) > 0;

  const submit = async (value: string | undefined) => {
    if (value === undefined) return;
    await run(async () => {
      try {
        await shopApi.post('/shop/refunds', { body: { transfer_id: entry.transfer_id, amount: value }, idempotent: action.current });
      } catch (caught) {
        if (caught instanceof ApiError && caught.code === 'refund_exceeds_payment'
          && typeof caught.extra.left_minor === 'string' && /^[0-9]+$/.test(caught.extra.left_minor)) {
          setServerLeft(fromMinor(BigInt(caught.extra.left_minor), scale));
        }
        throw caught;
      }
      // Before `busy` clears: the list closes this form on it, so the form is not enabled again first.
      onDone(value);
    });
  };

  const exceeds_left = error instanceof ApiError && error.code === 'refund_exceeds_payment' ? serverLeft : undefined;

  return (
    <form class="refund-form stack stack-tight" data-testid="refund-form" onSubmit={(event) => { event.preventDefault(); void submit(to_refund); }}>
      <p class="refund-what">{t('shop.refund_of', { amount: formatAmount(entry.amount, currency), when: formatDate(entry.created_at, 'short') })}</p>
      <div class="refund-layout">
        <AmountPad
          value={amount} scale={scale} currency={currency} label={t('shop.refund_amount_label')} disabled={busy} focus
          prefilled={prefilled} hintId={hint} invalid={too_much} testid="refund-amount-input"
          onChange={(next) => { setPrefilled(false); setAmount(next); }}
        />
        <div class="stack stack-tight refund-side">
          <p class="hint" id={hint}>{t('shop.refund_at_most', { amount: formatAmount(most, currency) })}</p>
          {too_much && exceeds_left === undefined && (
            <Alert kind="warning" data-testid="refund-too-much">{t('shop.refund_too_much', { amount: formatAmount(most, currency) })}</Alert>
          )}
          {error !== undefined && (
            <Alert kind="error" data-testid="refund-error">
              <p data-code={error instanceof ApiError ? error.code : undefined}>
                {problemText(error, {
                  refund_exceeds_payment: exceeds_left === undefined
                    ? t('shop.refund_exceeds')
                    : t('shop.refund_exceeds_left', { amount: formatAmount(exceeds_left, currency) }),
                  insufficient_funds: t('shop.refund_insufficient'),
                  not_refundable: t('shop.refund_not_refundable'),
                  transfer_not_found: t('shop.refund_not_refundable'),
                  balance_max_exceeded: t('shop.refund_wallet_full'),
                  account_frozen: t('shop.refund_wallet_frozen'),
                  account_closed: t('shop.refund_wallet_frozen'),
                })}
              </p>
            </Alert>
          )}
          {busy && <Loading label={t('shop.refund_busy')} />}
          <div class="refund-actions">
            <Button type="submit" icon="back" disabled={busy || to_refund === undefined || too_much} data-testid="refund-submit">
              {to_refund === undefined ? t('shop.refund_submit_empty') : t('shop.refund_submit', { amount: formatAmount(to_refund, currency) })}
            </Button>
            {amount !== most && compare(most, '0') > 0 && (
              <Button variant="secondary" icon="refresh" disabled={busy} onClick={() => { setAmount(most); setPrefilled(true); }} data-testid="refund-full">
                {t('shop.refund_full', { amount: formatAmount(most, currency) })}
              </Button>
            )}
            <Button variant="ghost" icon="x" disabled={busy} onClick={onClose} data-testid="refund-cancel">{t('common.cancel')}</Button>
          </div>
        </div>
      </div>
    </form>
  );
}

function EntryRow({ entry, currency, scale, refunded, open, onRefund, onClose, onRefunded }: {
  entry: ShopEntry; currency: string; scale: number; refunded: bigint | undefined; open: boolean;
  onRefund: () => void; onClose: () => void; onRefunded: (amount: string) => void;
}) {
  const out = isNegative(entry.amount);
  const kind = tMaybe(`common.transfer_codes.${entry.code}`) ?? entry.code;
  const refundable = entry.code === 'payment' && !out;
  const paid_minor = refundable ? toMinor(entry.amount, scale) : 0n;
  const left_minor = paid_minor - (refunded ?? 0n);
  const left = fromMinor(left_minor > 0n ? left_minor : 0n, scale);
  // Only people's words: the till's memo of a payment, a coordinator's reason. The service's own
  // memos ("cash-out", and "refund <payment id>" on refunds recorded before they were dropped) are not for people.
  const memo = entry.memo !== null && entry.memo.trim() !== '' && memo_codes.has(entry.code) ? entry.memo : undefined;
  const title = entry.counterparty.kind === 'issuance' ? t('common.counterparty_issuance') : entry.counterparty.name;
  return (
    <li class="entry shop-entry" data-testid="shop-entry" data-code={entry.code} data-transfer={entry.transfer_id}>
      <div class="shop-entry-row">
        <span class={`entry-icon ${out ? 'entry-out' : 'entry-in'}`}>
          <Icon name={out ? 'arrow-out' : 'arrow-in'} />
        </span>
        <span class="entry-text">
          <span class="entry-title" data-testid="entry-title">{title}</span>
          <span class="entry-meta">
            {kind}
            {' · '}
            <time dateTime={entry.created_at}>{formatDate(entry.created_at, 'short')}</time>
            {memo !== undefined && <>{' · '}{memo}</>}
          </span>
          {entry.on_behalf !== null && (
            <span class="entry-reason" data-testid="entry-on-behalf">
              {t('shop.paid_by_for', { helper: entry.on_behalf.helper.name, volunteer: entry.on_behalf.volunteer.name })}
            </span>
          )}
          {refundable && refunded !== undefined && refunded > 0n && (
            <span class="entry-refunded" data-testid="entry-refunded">
              {left_minor > 0n
                ? t('shop.refunded_part', { amount: formatAmount(fromMinor(refunded, scale), currency) })
                : t('shop.refunded_all')}
            </span>
          )}
        </span>
        <span class={`entry-amount ${out ? 'amount-out' : 'amount-in'}`} data-amount={entry.amount}>
          {formatAmount(entry.amount, currency, { signed: true })}
        </span>
        {refundable && left_minor > 0n && !open && (
          <Button variant="secondary" icon="back" onClick={onRefund} data-testid="entry-refund"
            aria-label={t('shop.refund_button_label', { amount: formatAmount(entry.amount, currency), when: formatDate(entry.created_at, 'short') })}>
            {t('shop.refund_button')}
          </Button>
        )}
      </div>
      {open && <RefundForm entry={entry} left={left} scale={scale} currency={currency} onClose={onClose} onDone={onRefunded} />}
    </li>
  );
}

function Takings({ shop }: { shop: ShopState }) {
  const zero = fromMinor(0n, shop.scale);
  const total = shop.today.reduce(
    (sum, row) => ({ payments: addAmounts(sum.payments, row.payments), count: sum.count + row.payments_count, refunds: addAmounts(sum.refunds, row.refunds) }),
    { payments: zero, count: 0, refunds: zero },
  );
  return (
    <section aria-labelledby="takings-title" data-testid="takings">
      <h2 id="takings-title"><Icon name="coins" /><span>{t('shop.today_takings')}</span></h2>
      {shop.today.length === 0 ? <p class="muted" data-testid="takings-empty">{t('shop.today_none')}</p> : (
        <div class="table-wrap">
          <table class="takings">
            <thead>
              <tr>
                <th scope="col">{t('shop.today_device')}</th>
                <th scope="col" class="num">{t('shop.today_count')}</th>
                <th scope="col" class="num">{t('shop.today_received')}</th>
                <th scope="col" class="num">{t('shop.today_refunded')}</th>
              </tr>
            </thead>
            <tbody>
              {shop.today.map((row) => (
                <tr key={row.device?.id ?? 'none'} data-testid="takings-row" data-device={row.device?.id ?? ''}>
                  <th scope="row">
                    {row.device?.name ?? t('shop.today_no_device')}
                    {row.device?.id === shop.device.id && <span class="badge">{t('shop.today_this_device')}</span>}
                  </th>
                  <td class="num">{row.payments_count}</td>
                  <td class="num" data-amount={row.payments}>{formatAmount(row.payments, shop.currency)}</td>
                  <td class="num" data-amount={row.refunds}>{formatAmount(row.refunds, shop.currency)}</td>
                </tr>
              ))}
            </tbody>
            {shop.today.length > 1 && (
              <tfoot>
                <tr data-testid="takings-total">
                  <th scope="row">{t('shop.today_total')}</th>
                  <td class="num">{total.count}</td>
                  <td class="num" data-amount={total.payments}>{formatAmount(total.payments, shop.currency)}</td>
                  <td class="num" data-amount={total.refunds}>{formatAmount(total.refunds, shop.currency)}</td>
                </tr>
              </tfoot>
            )}
          </table>
        </div>
      )}
    </section>
  );
}

/** Today: balance, today's takings per tablet, the history with refunds, and this tablet (unpair). */
export function Today() {
  const { route } = useLocation();
  const history = usePagedList(
    (cursor) => shopApi.get('/shop/entries', { query: { limit: page_size, cursor } }),
    refreshShop,
  );
  const { items: entries, error, reload: load } = history;
  const [refunding, setRefunding] = useState<string | undefined>(undefined);
  const [refunded, setRefunded] = useState<string | undefined>(undefined);
  const [confirmUnpair, setConfirmUnpair] = useState(false);
  const shop = shopState.value;
  const info = shopInfo.value;

  useEffect(() => { void load(); }, []);

  const scale = shop?.scale ?? info?.scale ?? 0;
  const currency = shop?.currency ?? info?.currency ?? '';
  const refunds = entries === undefined ? new Map<string, bigint>() : refundedByPayment(entries, scale);

  return (
    <ShopScreen title={t('shop.today_title')} testid="shop-today">
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} testid="today-error" />}
      {shop === undefined ? (error === undefined && <Loading />) : (
        <div class="shop-figures">
          <div class="figure figure-main" data-testid="shop-balance" data-amount={shop.balance}>
            <span class="figure-label">{t('shop.balance')}</span>
            <span class="figure-value">{formatAmount(shop.balance, shop.currency)}</span>
          </div>
          <div class="figure" data-testid="shop-available" data-amount={shop.available}>
            <span class="figure-label">{t('shop.available')}</span>
            <span class="figure-value">{formatAmount(shop.available, shop.currency)}</span>
          </div>
          <div class="figure" data-testid="shop-pending" data-amount={shop.pending_redemptions}>
            <span class="figure-label">{t('shop.pending_cashouts')}</span>
            <span class="figure-value">{formatAmount(shop.pending_redemptions, shop.currency)}</span>
          </div>
        </div>
      )}
      {shop !== undefined && <Takings shop={shop} />}

      <section aria-labelledby="history-title">
        <h2 id="history-title"><Icon name="clock" /><span>{t('shop.history')}</span></h2>
        {refunded !== undefined && <Alert kind="success" data-testid="refund-success">{t('shop.refund_done', { amount: formatAmount(refunded, currency) })}</Alert>}
        {entries === undefined && error === undefined && <Loading />}
        {entries !== undefined && entries.length === 0 && <p class="muted" data-testid="history-empty">{t('shop.history_empty')}</p>}
        {entries !== undefined && entries.length > 0 && (
          <ul class="entries" data-testid="history">
            {entries.map((entry) => (
              <EntryRow
                key={entry.transfer_id} entry={entry} currency={currency} scale={scale}
                refunded={refunds.get(entry.transfer_id.toLowerCase())} open={refunding === entry.transfer_id}
                onRefund={() => { setRefunded(undefined); setRefunding(entry.transfer_id); }}
                onClose={() => setRefunding(undefined)}
                onRefunded={(amount) => {
                  setRefunding(undefined);
                  setRefunded(amount);
                  void load();
                }}
              />
            ))}
          </ul>
        )}
        {history.hasMore && (
          <Button variant="secondary" icon="refresh" disabled={history.loadingMore} onClick={() => void history.more()} data-testid="load-more">
            {t('shop.load_more')}
          </Button>
        )}
      </section>

      <section aria-labelledby="device-title" class="device-section">
        <h2 id="device-title"><Icon name="shop" /><span>{t('shop.device_title')}</span></h2>
        <p data-testid="device-name">{t('shop.device_is', { device: shop?.device.name ?? info?.device.name ?? '', shop: shop?.name ?? info?.name ?? '' })}</p>
        {!confirmUnpair ? (
          <Button variant="ghost" icon="logout" onClick={() => setConfirmUnpair(true)} data-testid="unpair">{t('shop.unpair')}</Button>
        ) : (
          <Alert kind="warning" title={t('shop.unpair_confirm_title')} data-testid="unpair-confirm-box">
            <p>{t('shop.unpair_confirm_body')}</p>
            <div class="actions actions-row">
              <Button variant="danger" icon="logout" onClick={() => { unpairTablet(); route('/shop', true); }} data-testid="unpair-confirm">
                {t('shop.unpair_confirm')}
              </Button>
              <Button variant="secondary" icon="x" onClick={() => setConfirmUnpair(false)} data-testid="unpair-cancel">{t('common.cancel')}</Button>
            </div>
          </Alert>
        )}
      </section>
    </ShopScreen>
  );
}
