import { useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { t } from '../i18n/index.js';
import { parseScanned } from '../lib/links.js';
import { Alert } from '../ui/Alert.js';
import { Screen } from '../ui/Layout.js';
import { Scanner } from '../ui/Scanner.js';

/** Scan: a claim QR goes to the claim, a payment QR to the payment, a receive QR to a gift; anything else is explained. */
export function Scan() {
  const { route } = useLocation();
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const onResult = (text: string) => {
    const scanned = parseScanned(text);
    if (scanned.kind === 'claim') route(`/claim#${encodeURIComponent(scanned.token)}`);
    else if (scanned.kind === 'pay') route(`/p/${scanned.id}`);
    else if (scanned.kind === 'receive') route(`/r/${scanned.code}`);
    else setProblem(scanned.kind === 'card' ? t('wallet.scan_is_card') : t('wallet.scan_unknown'));
  };
  return (
    <Screen title={t('wallet.scan_title')} back="/wallet" area={{ icon: 'wallet', label: t('wallet.title') }} testid="wallet-scan">
      {/* A problem says what to scan instead, in the intro's place: the typed code's button stays on a small phone's screen. */}
      {problem === undefined
        ? <p>{t('wallet.scan_intro')}</p>
        : <Alert kind="warning" data-testid="scan-problem">{problem}</Alert>}
      <Scanner onResult={onResult} />
    </Screen>
  );
}
