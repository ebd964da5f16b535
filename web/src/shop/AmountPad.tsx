import { useEffect, useId, useRef } from 'preact/hooks';
import { formatAmount, t } from '../i18n/index.js';
import { Icon } from '../ui/Icon.js';
import { amountForApi, cleanAmount, decimalSeparator, pressKey, shownAmount } from './amount.js';

/**
 * A big amount keypad over a labelled amount field that a keyboard can also type in (comma or
 * dot). `value` is the canonical decimal string ("12.5"); decimals stop at the currency's scale.
 * The till, a refund and a cash-out all type their amount here, never with the system keyboard.
 * A `prefilled` value (a refund's whole payment) is replaced by the first key pressed, as a
 * selected field would be; `hintId` names a hint of the screen's own that the field is described by.
 */
export function AmountPad({ value, onChange, scale, currency, label, disabled = false, prefilled = false, hintId, focus = false, invalid = false, testid = 'amount-input' }: {
  value: string;
  onChange: (amount: string) => void;
  scale: number;
  currency: string;
  label?: string;
  disabled?: boolean;
  prefilled?: boolean;
  hintId?: string;
  /** Focus the field when the pad appears (a keyboard can type at once; no on-screen keyboard opens). */
  focus?: boolean;
  invalid?: boolean;
  testid?: string;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (focus) input.current?.focus();
  }, []);
  const separator = decimalSeparator();
  const press = (key: string) => {
    if (!disabled) onChange(pressKey(prefilled ? '' : value, key, scale));
  };
  const valid = amountForApi(value, scale);
  return (
    <div class="amount-pad">
      <label class="amount-label" for={id}>
        <Icon name="coins" />
        <span>{label ?? t('shop.amount_label')}</span>
      </label>
      <div class="amount-display">
        <input
          ref={input}
          id={id}
          class="amount-input"
          type="text"
          // The keypad below is the way to type on a touch screen: no on-screen keyboard over it.
          // A hardware keyboard still types here (digits, comma or dot).
          inputMode="none"
          autoComplete="off"
          spellcheck={false}
          value={shownAmount(value)}
          placeholder={scale === 0 ? '0' : `0${separator}${'0'.repeat(scale)}`}
          disabled={disabled}
          aria-describedby={hintId === undefined ? `${id}-preview` : `${id}-preview ${hintId}`}
          aria-invalid={invalid || undefined}
          data-testid={testid}
          data-amount={valid ?? ''}
          onInput={(event) => {
            const cleaned = cleanAmount(event.currentTarget.value, scale);
            // Keep the field showing exactly what is kept (a refused character disappears at once).
            event.currentTarget.value = shownAmount(cleaned);
            onChange(cleaned);
          }}
        />
        <span class="amount-currency" aria-hidden="true">{currency}</span>
      </div>
      <p class="amount-preview" id={`${id}-preview`} aria-live="polite" data-testid="amount-preview">
        {valid === undefined ? t('shop.amount_hint', { decimals: scale }) : formatAmount(valid, currency)}
      </p>
      <div class="amount-keys">
        {['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((digit) => (
          <button key={digit} type="button" class="amount-key" disabled={disabled} data-testid={`amount-key-${digit}`}
            onClick={() => press(digit)}>{digit}</button>
        ))}
        {scale > 0 ? (
          <button type="button" class="amount-key" disabled={disabled || (!prefilled && value.includes('.'))} data-testid="amount-key-sep"
            aria-label={t('shop.amount_separator')} onClick={() => press('.')}>{separator}</button>
        ) : (
          <button type="button" class="amount-key" disabled={disabled} data-testid="amount-key-00"
            onClick={() => press('00')}>00</button>
        )}
        <button type="button" class="amount-key" disabled={disabled} data-testid="amount-key-0" onClick={() => press('0')}>0</button>
        <button type="button" class="amount-key amount-erase" disabled={disabled || value === ''} data-testid="amount-key-erase"
          onClick={() => onChange(value.slice(0, -1))}>
          <Icon name="backspace" size={32} />
          <span class="sr-only">{t('shop.amount_erase')}</span>
        </button>
      </div>
      <button type="button" class="btn btn-ghost amount-clear" disabled={disabled || value === ''} data-testid="amount-clear"
        onClick={() => onChange('')}>
        <Icon name="x" />
        <span>{t('shop.amount_clear')}</span>
      </button>
    </div>
  );
}
