import { t } from '../i18n/index.js';
import { groupCardCode } from '../lib/links.js';
import { Alert } from '../ui/Alert.js';
import { Screen } from '../ui/Layout.js';
import { QrCode } from '../ui/QrCode.js';
import { walletInfo } from './state.js';

/** The card's QR code and typed code, for a shop to scan; the customer then types the PIN on the tablet. */
export function MyCard() {
  const info = walletInfo.value;
  return (
    <Screen title={t('wallet.card_title')} back="/wallet" area={{ icon: 'wallet', label: info?.display_name ?? t('wallet.title') }} testid="wallet-card">
      {info === undefined ? (
        <Alert kind="info">{t('wallet.card_unknown')}</Alert>
      ) : (
        <div class="stack center">
          <p>{t('wallet.card_intro')}</p>
          <QrCode text={`${location.origin}/c/${info.card}`} size={300} class="card-qr" testid="card-qr" label={t('wallet.card_title')} />
          <p class="card-owner">{info.display_name}</p>
          <p class="card-code-label">{t('wallet.card_code')}</p>
          <p class="card-code" data-testid="card-code">{groupCardCode(info.card)}</p>
        </div>
      )}
    </Screen>
  );
}
