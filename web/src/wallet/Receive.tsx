import { useEffect, useState } from 'preact/hooks';
import { walletApi } from '../api.js';
import { t } from '../i18n/index.js';
import { Loading, Screen } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { QrCode } from '../ui/QrCode.js';
import { walletInfo } from './state.js';

/**
 * The wallet's receive QR (`/r/<code>`): a neighbour's wallet scans it to give coins. The code
 * names this wallet without its card code, so showing it gives nobody access to the wallet.
 */
export function Receive() {
  const [receive, setReceive] = useState<{ code: string; url: string } | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const load = async () => {
    setError(undefined);
    try {
      setReceive(await walletApi.get('/wallet/receive'));
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => { void load(); }, []);
  const name = walletInfo.value?.display_name ?? '';
  return (
    <Screen title={t('wallet.receive_title')} back="/wallet" area={{ icon: 'wallet', label: name || t('wallet.title') }} testid="wallet-receive">
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} />}
      {receive === undefined ? (error === undefined && <Loading />) : (
        <div class="stack center">
          <p>{t('wallet.receive_intro')}</p>
          <QrCode text={receive.url} size={300} testid="receive-qr" label={t('wallet.receive_title')} />
          <p class="card-owner">{name}</p>
        </div>
      )}
    </Screen>
  );
}
