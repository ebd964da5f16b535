import { useId, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { t } from '../i18n/index.js';
import { groupCardCode, normalizeCardCode } from '../lib/links.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading, Screen } from '../ui/Layout.js';
import { PinPad } from '../ui/PinPad.js';
import { PinProblemAlert } from '../ui/problem.js';
import { openWallet, walletInfo } from './state.js';

/**
 * Opening the wallet: the card code (from the card's link, the last card used on this phone,
 * or typed), then the PIN. `reason` says what waits behind it (a claim or a payment).
 */
export function OpenWallet({ card: linked, reason, onOpened, ended = false }: {
  card?: string; reason?: 'claim' | 'pay'; onOpened?: () => void;
  /** The server ended the last session: say so. */
  ended?: boolean;
}) {
  const remembered = walletInfo.value?.card;
  const initial = (linked === undefined ? undefined : normalizeCardCode(linked)) ?? remembered;
  const [card, setCard] = useState<string | undefined>(initial);
  const [typed, setTyped] = useState(linked !== undefined && initial === undefined ? linked : '');
  const [cardError, setCardError] = useState<string | undefined>(
    linked !== undefined && initial === undefined ? t('wallet.card_invalid') : undefined,
  );
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const card_input = useId();

  const submitCard = (event: Event) => {
    event.preventDefault();
    const code = normalizeCardCode(typed);
    if (code === undefined) {
      setCardError(t('wallet.card_invalid'));
      return;
    }
    setCardError(undefined);
    setCard(code);
    setError(undefined);
  };

  const submitPin = async (value: string) => {
    if (card === undefined) return;
    if (!/^[0-9]{4,6}$/.test(value)) {
      setError(new ApiError(422, 'pin_format', ''));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await openWallet(card, value);
      onOpened?.();
    } catch (caught) {
      setError(caught);
      setPin('');
    } finally {
      setBusy(false);
    }
  };

  const reason_text = reason === 'claim' ? t('wallet.continue_claim') : reason === 'pay' ? t('wallet.continue_pay') : undefined;

  return (
    <Screen title={card === undefined ? t('wallet.open_title') : t('wallet.pin_title')} area={{ icon: 'wallet', label: t('wallet.title') }} testid="wallet-open">
      {ended && <Alert kind="info" icon="lock" data-testid="session-ended">{t('common.errors.session_ended')}</Alert>}
      {reason_text !== undefined && <Alert kind="info" icon={reason === 'claim' ? 'star' : 'shop'}>{reason_text}</Alert>}
      {card === undefined ? (
        <form class="stack stack-tight" onSubmit={submitCard}>
          {/* As on the PIN pad: an error takes the intro's place, so the button stays on a small phone's screen. */}
          {cardError === undefined && <p>{t('wallet.open_intro')}</p>}
          <label class="field-label" for={card_input}>
            <Icon name="card" />
            <span>{t('wallet.card_label')}</span>
          </label>
          <input
            id={card_input} class="code-input" type="text" value={typed} autoComplete="off" autoCapitalize="characters"
            spellcheck={false} aria-describedby={`${card_input}-hint`} aria-invalid={cardError !== undefined}
            placeholder="K7QM-3D9X-P2RT-8HWV-Z" data-testid="card-input"
            onInput={(event) => setTyped(event.currentTarget.value)}
          />
          <p class="hint" id={`${card_input}-hint`}>{t('wallet.card_hint')}</p>
          {cardError !== undefined && <Alert kind="error" data-testid="card-error">{cardError}</Alert>}
          <Button type="submit" big icon="check" data-testid="card-submit">{t('common.continue')}</Button>
        </form>
      ) : (
        <div class="stack stack-tight">
          {/* After a wrong PIN the error takes the intro's place, so the pad stays on a small phone's screen. */}
          {error === undefined && <p>{t('wallet.pin_intro')}</p>}
          <div class="card-chip">
            <Icon name="card" />
            <span class="sr-only">{t('wallet.pin_card', { code: groupCardCode(card) })}</span>
            <span class="card-chip-code" aria-hidden="true" data-testid="open-card">{groupCardCode(card)}</span>
            <button type="button" class="link-button" data-testid="other-card" onClick={() => {
              setCard(undefined);
              setTyped('');
              setPin('');
              setError(undefined);
            }}>{t('wallet.other_card')}</button>
          </div>
          {error !== undefined && (
            <PinProblemAlert error={error} reader="owner" testid="open-error" overrides={{
              pin_format: t('wallet.pin_too_short'),
              unauthenticated: t('wallet.wrong_card_or_pin'),
              validation_failed: t('wallet.wrong_card_or_pin'),
              card_replaced: t('wallet.card_blocked'),
            }} />
          )}
          {busy && <Loading label={t('wallet.opening')} />}
          <PinPad value={pin} onChange={setPin} onSubmit={(value) => void submitPin(value)} submitLabel={t('wallet.open_button')} disabled={busy} />
        </div>
      )}
    </Screen>
  );
}
