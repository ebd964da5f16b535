import { useEffect, useState } from 'preact/hooks';
import { ApiError, walletApi } from '../api.js';
import { t } from '../i18n/index.js';
import { Alert } from '../ui/Alert.js';
import { LinkButton } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading, Screen } from '../ui/Layout.js';
import { PinPad } from '../ui/PinPad.js';
import { PinProblemAlert } from '../ui/problem.js';
import { walletInfo } from './state.js';

type Step = 'old' | 'new' | 'again' | 'done';
const step_number: Record<Exclude<Step, 'done'>, number> = { old: 1, new: 2, again: 3 };
const pin_format = /^[0-9]{4,6}$/;

/** A refusal of the new PIN by the server (too easy to guess). */
function weakNewPin(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'validation_failed' && error.errors.some((e) => e.path === 'new_pin');
}

/**
 * The volunteer changes their own PIN: the current one, then the new one twice, one PIN pad at
 * a time. The server decides what is too easy to guess and counts a wrong current PIN like any
 * wrong PIN (tries left, lock). The PINs live only in this screen's state until sent.
 */
export function ChangePin() {
  const [step, setStep] = useState<Step>('old');
  const [pin, setPin] = useState('');
  const [oldPin, setOldPin] = useState('');
  const [newPin, setNewPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);

  // Each step starts at its top, for screen readers too.
  useEffect(() => {
    requestAnimationFrame(() => document.getElementById('main')?.focus());
  }, [step]);

  const go = (next: Step, problem?: unknown) => {
    setPin('');
    setError(problem);
    setStep(next);
  };

  const send = async (old_pin: string, new_pin: string) => {
    setBusy(true);
    setError(undefined);
    try {
      await walletApi.post('/wallet/pin', { body: { old_pin, new_pin } });
      setOldPin('');
      setNewPin('');
      go('done');
    } catch (caught) {
      setNewPin('');
      if (weakNewPin(caught)) {
        go('new', caught);
      } else {
        setOldPin('');
        go('old', caught);
      }
    } finally {
      setBusy(false);
    }
  };

  const submit = (value: string) => {
    if (!pin_format.test(value)) {
      setPin('');
      setError(new ApiError(422, 'pin_format', ''));
      return;
    }
    if (step === 'old') {
      setOldPin(value);
      go('new');
    } else if (step === 'new') {
      if (value === oldPin) go('new', new ApiError(422, 'pin_same', ''));
      else {
        setNewPin(value);
        go('again');
      }
    } else if (step === 'again') {
      if (value !== newPin) {
        setNewPin('');
        go('new', new ApiError(422, 'pin_mismatch', ''));
      } else {
        setPin('');
        void send(oldPin, value);
      }
    }
  };

  const labels: Record<Exclude<Step, 'done'>, string> = {
    old: t('wallet.pin_change_old'),
    new: t('wallet.pin_change_new'),
    again: t('wallet.pin_change_again'),
  };

  return (
    <Screen title={t('wallet.pin_change')} back="/wallet" area={{ icon: 'wallet', label: walletInfo.value?.display_name ?? t('wallet.title') }} testid="wallet-pin">
      {step === 'done' ? (
        <div class="stack center">
          <div class="celebration" role="status" data-testid="pin-change-success">
            <span class="celebration-icon"><Icon name="check" size={64} /></span>
            <p class="celebration-title">{t('wallet.pin_change_done')}</p>
            <p class="celebration-activity">{t('wallet.pin_change_done_body')}</p>
          </div>
          <LinkButton href="/wallet" big icon="wallet" data-testid="pin-change-home">{t('wallet.back_home')}</LinkButton>
        </div>
      ) : (
        <div class="stack stack-tight" data-testid="pin-change-step" data-step={step}>
          <p class="muted">{t('wallet.pin_change_step', { step: step_number[step] })}</p>
          {step === 'old' && <p>{t('wallet.pin_change_old_intro')}</p>}
          {step === 'new' && <p>{t('wallet.pin_change_new_intro')}</p>}
          {error !== undefined && (
            <PinProblemAlert error={error} reader="owner" testid="pin-change-error" overrides={{
              pin_format: t('wallet.pin_too_short'),
              pin_same: t('wallet.pin_change_same'),
              pin_mismatch: t('wallet.pin_change_mismatch'),
              invalid_card_or_pin: t('wallet.pin_change_wrong_old'),
              validation_failed: weakNewPin(error) ? t('common.pin_weak') : t('wallet.pin_too_short'),
              card_replaced: t('wallet.card_blocked'),
            }} />
          )}
          {busy && <Loading label={t('wallet.pin_change_busy')} />}
          <PinPad key={step} value={pin} onChange={setPin} onSubmit={submit} disabled={busy} label={labels[step]}
            submitLabel={step === 'again' ? t('wallet.pin_change_submit') : t('common.continue')} />
        </div>
      )}
    </Screen>
  );
}
