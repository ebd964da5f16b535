import { useId, useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { t } from '../i18n/index.js';
import { normalizePairingCode } from '../../../src/ledger/pairing.js';
import { Alert } from '../ui/Alert.js';
import { Button } from '../ui/Button.js';
import { Icon } from '../ui/Icon.js';
import { Loading } from '../ui/Layout.js';
import { problemText } from '../ui/problem.js';
import { ShopScreen } from './ShopLayout.js';
import { pairTablet } from './state.js';

/**
 * Pairing this tablet with a shop: the one-time code from the coordinator (typed any way: lower
 * case, with or without the dash, O for 0) and a name for the tablet, e.g. "Kassa 1".
 */
export function Pair({ ended = false }: { ended?: boolean }) {
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const code_id = useId();
  const name_id = useId();

  const submit = async (event: Event) => {
    event.preventDefault();
    const canonical = normalizePairingCode(code);
    if (canonical === undefined) {
      setError(new ApiError(422, 'pairing_code_format', ''));
      return;
    }
    if (name.trim() === '') {
      setError(new ApiError(422, 'device_name_missing', ''));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await pairTablet(canonical, name.trim());
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const code_problem = error instanceof ApiError && ['pairing_code_format', 'unauthenticated'].includes(error.code);
  const name_problem = error instanceof ApiError && error.code === 'device_name_missing';

  return (
    <ShopScreen title={t('shop.pair_title')} testid="shop-pair" nav={false}>
      {ended && <Alert kind="info" icon="lock" data-testid="shop-unpaired">{t('shop.pair_ended')}</Alert>}
      <form class="stack pair-form" onSubmit={(event) => void submit(event)} noValidate>
        <p>{t('shop.pair_intro')}</p>
        <div class="field">
          <label class="field-label" for={code_id}>
            <Icon name="lock" />
            <span>{t('shop.pair_code_label')}</span>
          </label>
          <input
            id={code_id} class="code-input" type="text" value={code} autoComplete="off" autoCapitalize="characters"
            spellcheck={false} placeholder="K7QM-3D9X" aria-describedby={`${code_id}-hint`} aria-invalid={code_problem}
            data-testid="pair-code-input" onInput={(event) => setCode(event.currentTarget.value)}
          />
          <p class="hint" id={`${code_id}-hint`}>{t('shop.pair_code_hint')}</p>
        </div>
        <div class="field">
          <label class="field-label" for={name_id}>
            <Icon name="shop" />
            <span>{t('shop.pair_name_label')}</span>
          </label>
          <input
            id={name_id} type="text" value={name} autoComplete="off" maxLength={100}
            placeholder={t('shop.pair_name_placeholder')} aria-describedby={`${name_id}-hint`} aria-invalid={name_problem}
            data-testid="pair-name-input" onInput={(event) => setName(event.currentTarget.value)}
          />
          <p class="hint" id={`${name_id}-hint`}>{t('shop.pair_name_hint')}</p>
        </div>
        {error !== undefined && (
          <Alert kind="error" data-testid="pair-error">
            <p data-code={error instanceof ApiError ? error.code : undefined}>
              {problemText(error, {
                pairing_code_format: t('shop.pair_code_format'),
                device_name_missing: t('shop.pair_name_missing'),
                unauthenticated: t('shop.pair_code_wrong'),
                validation_failed: t('shop.pair_code_format'),
              })}
            </p>
          </Alert>
        )}
        {busy && <Loading label={t('shop.pair_busy')} />}
        <Button type="submit" big icon="check" disabled={busy} data-testid="pair-submit">{t('shop.pair_submit')}</Button>
      </form>
    </ShopScreen>
  );
}
