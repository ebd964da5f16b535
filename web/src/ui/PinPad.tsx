import { useId } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { Icon } from './Icon.js';

const pin_length_max = 6;

/**
 * A big PIN pad (digits, erase, OK) over a labelled PIN field that a keyboard can also type in;
 * Enter or OK submits. Used by the wallet and by the shop tablet's card payments.
 */
export function PinPad({ value, onChange, onSubmit, submitLabel, disabled = false, label }: {
  value: string;
  onChange: (pin: string) => void;
  onSubmit: (pin: string) => void;
  submitLabel: string;
  disabled?: boolean;
  label?: string;
}) {
  const id = useId();
  const press = (digit: string) => {
    if (!disabled && value.length < pin_length_max) onChange(value + digit);
  };
  return (
    <form
      class="pin-pad"
      onSubmit={(event) => {
        event.preventDefault();
        if (!disabled) onSubmit(value);
      }}
    >
      <label class="pin-label" for={id}>{label ?? t('common.pin_label')}</label>
      <input
        id={id}
        class="pin-input"
        type="password"
        inputMode="numeric"
        autoComplete="off"
        pattern="[0-9]*"
        maxLength={pin_length_max}
        value={value}
        disabled={disabled}
        data-testid="pin-input"
        onInput={(event) => onChange(event.currentTarget.value.replace(/[^0-9]/g, '').slice(0, pin_length_max))}
      />
      <div class="pin-keys">
        {['1', '2', '3', '4', '5', '6', '7', '8', '9'].map((digit) => (
          <button key={digit} type="button" class="pin-key" disabled={disabled} data-testid={`pin-${digit}`}
            aria-label={t('common.pin_digit', { digit })} onClick={() => press(digit)}>{digit}</button>
        ))}
        <button type="button" class="pin-key pin-erase" disabled={disabled || value === ''} data-testid="pin-erase"
          onClick={() => onChange(value.slice(0, -1))}>
          <Icon name="backspace" size={32} />
          <span class="sr-only">{t('common.pin_erase')}</span>
        </button>
        <button type="button" class="pin-key" disabled={disabled} data-testid="pin-0"
          aria-label={t('common.pin_digit', { digit: '0' })} onClick={() => press('0')}>0</button>
        <button type="submit" class="pin-key pin-ok" disabled={disabled} data-testid="pin-ok">
          <Icon name="check" size={28} />
          <span>{submitLabel}</span>
        </button>
      </div>
      <p class="sr-only" aria-live="polite">{value === '' ? '' : t('common.pin_count', { count: value.length })}</p>
    </form>
  );
}
