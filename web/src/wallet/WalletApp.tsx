/**
 * The wallet (phone) screens, one component per route of app.tsx:
 *   /wallet          home (or open the wallet first)
 *   /wallet/scan     scan a claim or payment QR
 *   /wallet/card     my card's QR, for a shop to scan
 *   /wallet/pin      change my PIN
 *   /wallet/agenda   the currency's upcoming public sessions (what to join)
 *   /wallet/receive  my receive QR, for a neighbour's wallet to scan and give me coins
 *   /c/<card>        a card's QR opened by the phone camera: open that wallet
 *   /p/<id>          a payment QR opened by the phone camera: open the wallet, then pay
 *   /claim#<token>   a claim QR opened by the phone camera: open the wallet, then claim
 *   /r/<code>        a receive QR (scanned or opened by the camera): open the wallet, then give coins
 */
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { useLocation, useRoute } from 'preact-iso';
import { tokens } from '../api.js';
import { normalizeCardCode } from '../lib/links.js';
import { AgendaPage } from './Agenda.js';
import { ChangePin } from './ChangePin.js';
import { Claim } from './Claim.js';
import { Gift } from './Gift.js';
import { Home } from './Home.js';
import { MyCard } from './MyCard.js';
import { OpenWallet } from './OpenWallet.js';
import { Pay } from './Pay.js';
import { Receive } from './Receive.js';
import { Scan } from './Scan.js';
import { walletInfo, walletOpen } from './state.js';

/** Shows `children` once the wallet is open on this phone, else the card + PIN screen first. */
function WalletGate({ reason, children }: { reason?: 'claim' | 'pay'; children: ComponentChildren }) {
  if (walletOpen.value) return <>{children}</>;
  // A remembered wallet without a token: the server ended the session (or the card was blocked).
  const ended = walletInfo.value !== undefined && tokens.value.wallet === undefined;
  return <OpenWallet reason={reason} ended={ended} />;
}

export function WalletRoute() {
  return <WalletGate><Home /></WalletGate>;
}

export function WalletScanRoute() {
  return <WalletGate><Scan /></WalletGate>;
}

export function WalletCardRoute() {
  return <WalletGate><MyCard /></WalletGate>;
}

export function WalletPinRoute() {
  return <WalletGate><ChangePin /></WalletGate>;
}

export function WalletAgendaRoute() {
  return <WalletGate><AgendaPage /></WalletGate>;
}

export function WalletReceiveRoute() {
  return <WalletGate><Receive /></WalletGate>;
}

export function GiftRoute() {
  const { params } = useRoute();
  return <WalletGate><Gift code={params.code ?? ''} /></WalletGate>;
}

export function CardLinkRoute() {
  const { params } = useRoute();
  const { route } = useLocation();
  const linked = params.card ?? '';
  const same = walletOpen.value && walletInfo.value?.card === normalizeCardCode(linked);
  useEffect(() => {
    if (same) route('/wallet', true);
  }, [same]);
  if (same) return null;
  return <OpenWallet card={linked} onOpened={() => route('/wallet', true)} />;
}

export function PayRoute() {
  const { params } = useRoute();
  return <WalletGate reason="pay"><Pay id={params.id ?? ''} /></WalletGate>;
}

export function ClaimRoute() {
  useLocation();
  let token = '';
  try {
    token = decodeURIComponent(window.location.hash.replace(/^#/, '')).trim();
  } catch {
    token = '';
  }
  return (
    <WalletGate reason="claim">
      <Claim token={token} />
    </WalletGate>
  );
}
