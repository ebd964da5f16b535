import { ApiError } from '../api.js';
import { t, tMaybe } from '../i18n/index.js';
import { rateLimitText, triesLeft, triesLeftText, waitText } from '../lib/lockout.js';
import type { Reader } from '../lib/lockout.js';
import { Alert } from './Alert.js';
import { Button } from './Button.js';

/**
 * Plain words for a failed request: the screen's own text for a code (overrides), else the
 * shared text in common.errors (too many tries: with when to try again), else a generic
 * sentence naming the code.
 */
export function problemText(error: unknown, overrides: Partial<Record<string, string>> = {}): string {
  if (!(error instanceof ApiError)) return t('common.errors.server');
  const own = overrides[error.code];
  if (own !== undefined) return own;
  if (error.status === 0) return t('common.errors.network');
  if (error.status >= 500) return t('common.errors.server');
  return rateLimitText(error) ?? tMaybe(`common.errors.${error.code}`) ?? t('common.errors.unknown', { code: error.code });
}

/** An error box for a failed request, with a retry button when trying again can help. */
export function ProblemAlert({ error, overrides, onRetry, title, testid = 'problem' }: {
  error: unknown;
  overrides?: Partial<Record<string, string>>;
  onRetry?: () => void;
  title?: string;
  testid?: string;
}) {
  const offline = error instanceof ApiError && error.status === 0;
  return (
    <Alert kind="error" icon={offline ? 'wifi-off' : 'alert'} title={title ?? (offline ? t('common.offline_title') : undefined)} data-testid={testid}>
      <p data-code={error instanceof ApiError ? error.code : undefined}>{problemText(error, overrides)}</p>
      {onRetry !== undefined && (error instanceof ApiError ? error.retryable : true) && (
        <Button variant="secondary" icon="refresh" onClick={onRetry} data-testid="retry">{t('common.retry')}</Button>
      )}
    </Alert>
  );
}

/**
 * A refused PIN, near the PIN pad: the screen's words for it, or until when a locked card stays
 * locked and when to try again; then how many tries are left before the card locks.
 */
export function PinProblemAlert({ error, reader, overrides, testid }: {
  error: unknown;
  reader: Reader;
  overrides?: Partial<Record<string, string>>;
  testid: string;
}) {
  const locked = error instanceof ApiError && error.code === 'card_locked';
  const tries = triesLeftText(error, reader);
  return (
    <Alert kind="error" icon={locked ? 'lock' : 'alert'} data-testid={testid}>
      <p data-code={error instanceof ApiError ? error.code : undefined}>{waitText(error, reader) ?? problemText(error, overrides)}</p>
      {tries !== undefined && <p class="tries-left" data-testid="tries-left" data-tries={triesLeft(error)}>{tries}</p>}
    </Alert>
  );
}
