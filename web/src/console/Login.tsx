import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { Alert } from '../ui/Alert.js';
import { Screen } from '../ui/Layout.js';
import { problemText } from '../ui/problem.js';
import { Btn, Field } from './ui.js';
import { login, sessionEnded } from './state.js';

/** Email and password; the console's token is kept on this device until logout or expiry. */
export function Login() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAction();

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!await run(() => login(email.trim(), password))) setPassword('');
  };

  return (
    <Screen title={t('console.login_title')} area={{ icon: 'people', label: t('console.title') }} testid="console-login">
      <p>{t('console.login_intro')}</p>
      {sessionEnded.value && error === undefined && (
        <Alert kind="info" icon="lock" data-testid="session-ended">{t('common.errors.session_ended')}</Alert>
      )}
      <form class="stack" onSubmit={(event) => void submit(event)}>
        <Field label={t('console.login_email')} required>
          {(attrs) => (
            <input {...attrs} type="email" autoComplete="username" value={email} data-testid="login-email"
              onInput={(event) => setEmail(event.currentTarget.value)} />
          )}
        </Field>
        <Field label={t('console.login_password')} required>
          {(attrs) => (
            <input {...attrs} type="password" autoComplete="current-password" value={password} data-testid="login-password"
              onInput={(event) => setPassword(event.currentTarget.value)} />
          )}
        </Field>
        {error !== undefined && (
          <Alert kind="error" data-testid="login-error">
            <p data-code={error instanceof ApiError ? error.code : undefined}>
              {problemText(error, {
                unauthenticated: t('console.login_wrong'),
                validation_failed: t('console.login_wrong'),
              })}
            </p>
          </Alert>
        )}
        <Btn type="submit" icon="key" disabled={busy} data-testid="login-submit">
          {busy ? t('console.login_busy') : t('console.login_submit')}
        </Btn>
      </form>
    </Screen>
  );
}
