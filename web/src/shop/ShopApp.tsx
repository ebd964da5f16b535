/**
 * The shop tablet: every path under /shop, loaded on demand as its own chunk (with shop.css).
 *
 *   /shop               the till: amount keypad → "ask for payment"
 *   /shop/request/<id>  the payment QR, full screen, with a live "Paid ✓" (SSE, else polling)
 *   /shop/card          card + PIN: scan the card, the amount, the customer's PIN
 *   /shop/today         balance, today's takings per tablet, history with refunds, unpair
 *   /shop/cashout       cash-out requests and their status
 *
 * Until the tablet is paired (a token under the role "shop"), every path shows the pairing screen.
 */
import { Route, Router } from 'preact-iso';
import { tokens } from '../api.js';
import { t } from '../i18n/index.js';
import { LinkButton } from '../ui/Button.js';
import { CardCharge } from './CardCharge.js';
import { CashOut } from './CashOut.js';
import { Pair } from './Pair.js';
import { RequestRoute } from './PaymentQr.js';
import { ShopScreen } from './ShopLayout.js';
import { pinCheckInFlight, shopInfo } from './state.js';
import { Till } from './Till.js';
import { Today } from './Today.js';
import './shop.css';

function ShopNotFound() {
  return (
    <ShopScreen title={t('common.not_found_title')} testid="shop-not-found">
      <p>{t('common.not_found_body')}</p>
      <LinkButton href="/shop" icon="coins" variant="secondary">{t('shop.nav_till')}</LinkButton>
    </ShopScreen>
  );
}

/** After a move to another tablet screen, focus its main region so screen readers start there. */
function focusMain() {
  requestAnimationFrame(() => document.getElementById('main')?.focus({ preventScroll: false }));
}

export default function ShopApp() {
  const paired = tokens.value.shop !== undefined || pinCheckInFlight.value;
  // A remembered shop without a token: the server refused it (unpaired by the coordinator, expired).
  if (!paired) return <Pair ended={shopInfo.value !== undefined} />;
  return (
    <Router onRouteChange={focusMain}>
      <Route path="/" component={Till} />
      <Route path="/request/:id" component={RequestRoute} />
      <Route path="/card" component={CardCharge} />
      <Route path="/today" component={Today} />
      <Route path="/cashout" component={CashOut} />
      <Route default component={ShopNotFound} />
    </Router>
  );
}
