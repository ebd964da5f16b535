import { useState } from 'preact/hooks';
import { ApiError, consoleApi } from '../api.js';
import { t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { Alert } from '../ui/Alert.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Btn, Field } from './ui.js';
import { fieldError, me } from './state.js';

/**
 * Any staff user changes their own password: the current one, the new one twice. The server
 * decides what is too easy to guess; the user's other sessions end, this one stays.
 */
export function ChangePassword() {
  const [old, setOld] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [invalid, setInvalid] = useState<{ old?: string; next?: string; again?: string }>({});
  const { busy, error, done, run } = useAction();

  const submit = async (event: Event) => {
    event.preventDefault();
    const found: typeof invalid = {};
    if (old === '') found.old = t('console.password_missing');
    if (next !== '' && next === old) found.next = t('console.password_same');
    else if (next !== again) found.again = t('console.password_mismatch');
    setInvalid(found);
    if (Object.keys(found).length > 0) return;
    const changed = await run(async () => {
      await consoleApi.post('/auth/password', { body: { old_password: old, new_password: next } });
      return t('console.password_done');
    });
    if (changed) {
      setNext('');
      setAgain('');
    }
    setOld('');
  };

  const wrong_old = error instanceof ApiError && error.code === 'wrong_password';
  const weak_new = fieldError(error, 'new_password') !== undefined;

  return (
    <ConsolePage title={t('console.password_title')} testid="console-password">
      {done !== undefined && <Alert kind="success" data-testid="password-changed">{done}</Alert>}
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <p class="form-intro">{t('console.password_intro')}</p>
        {/* For password managers: whose password this is. */}
        <input type="email" autoComplete="username" value={me.value?.email ?? ''} readOnly hidden />
        <Field label={t('console.password_old')} required error={invalid.old ?? (wrong_old ? t('console.password_wrong') : undefined)}>
          {(attrs) => <input {...attrs} type="password" autoComplete="current-password" value={old} data-testid="password-old" onInput={(e) => setOld(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.password_new')} hint={t('console.password_hint')} required
          error={invalid.next ?? (weak_new ? t('console.password_weak') : undefined)}>
          {(attrs) => <input {...attrs} type="password" autoComplete="new-password" value={next} data-testid="password-new" onInput={(e) => setNext(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.password_again')} required error={invalid.again}>
          {(attrs) => <input {...attrs} type="password" autoComplete="new-password" value={again} data-testid="password-again" onInput={(e) => setAgain(e.currentTarget.value)} />}
        </Field>
        {error !== undefined && (
          <div class="form-wide">
            <ProblemAlert error={error} testid="password-error" overrides={{ wrong_password: t('console.password_wrong') }} />
          </div>
        )}
        <div class="form-wide">
          <Btn type="submit" icon="key" disabled={busy} data-testid="password-submit">{t('console.password_submit')}</Btn>
        </div>
      </form>
    </ConsolePage>
  );
}
