import { useEffect, useState } from 'preact/hooks';
import { consoleApi } from '../api.js';
import { formatDate, t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { Alert } from '../ui/Alert.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Btn, ConfirmDialog, Field, Panel, StatusTag } from './ui.js';
import type { ConsoleIconName } from './ui.js';
import { amountInput, chooseCurrency, currencies, currency, fieldError, isAdmin, loadSession, me } from './state.js';
import type { Currency, StaffUser } from './state.js';

function NewCurrency() {
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [scale, setScale] = useState('0');
  const [euro, setEuro] = useState('0.10');
  const [walletMax, setWalletMax] = useState('');
  const [capDay, setCapDay] = useState('');
  const [capYear, setCapYear] = useState('');
  const { busy, error, done, run } = useAction();
  const [invalid, setInvalid] = useState<Record<string, string>>({});

  const submit = async (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    const upper = code.trim().toUpperCase();
    const decimals = Number(scale);
    if (!/^[A-Z][A-Z0-9]{1,9}$/.test(upper)) found.code = t('console.currency_code_invalid');
    if (name.trim() === '') found.name = t('console.currency_name_missing');
    const euro_value = euro.trim().replace(',', '.');
    if (!/^(0|[1-9][0-9]{0,11})(\.[0-9]{1,12})?$/.test(euro_value)) found.euro = t('console.currency_euro_invalid');
    const optional = (typed: string, key: string) => {
      if (typed.trim() === '') return undefined;
      const value = amountInput(typed, decimals);
      if (value === undefined) found[key] = t('console.amount_invalid', { scale: decimals });
      return value;
    };
    const wallet_balance_max = optional(walletMax, 'walletMax');
    const volunteer_cap_day = optional(capDay, 'capDay');
    const volunteer_cap_year = optional(capYear, 'capYear');
    setInvalid(found);
    if (Object.keys(found).length > 0) return;
    const created_ok = await run(async () => {
      const created = await consoleApi.post('/currencies', {
        body: {
          code: upper, name: name.trim(), scale: decimals, euro_per_unit: euro_value,
          ...(wallet_balance_max === undefined ? {} : { wallet_balance_max }),
          ...(volunteer_cap_day === undefined ? {} : { volunteer_cap_day }),
          ...(volunteer_cap_year === undefined ? {} : { volunteer_cap_year }),
        },
      });
      await loadSession();
      chooseCurrency(created.code);
      return t('console.currency_created', { name: created.name, code: created.code });
    });
    if (!created_ok) return;
    setCode('');
    setName('');
  };

  return (
    <Panel title={t('console.currency_create')} icon="coins" testid="currency-new">
      <p class="hint">{t('console.currency_create_intro')}</p>
      {done !== undefined && <Alert kind="success" data-testid="currency-created">{done}</Alert>}
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <Field label={t('console.currency_code')} hint={t('console.currency_code_hint')} error={invalid.code ?? fieldError(error, 'code')} required>
          {(attrs) => <input {...attrs} type="text" class="mono" maxLength={10} autoCapitalize="characters" value={code} data-testid="currency-code" onInput={(e) => setCode(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.currency_name')} error={invalid.name} required>
          {(attrs) => <input {...attrs} type="text" maxLength={200} value={name} data-testid="currency-name" onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.currency_scale')} hint={t('console.currency_scale_hint')}>
          {(attrs) => (
            <select {...attrs} value={scale} data-testid="currency-scale" onChange={(e) => setScale(e.currentTarget.value)}>
              {[0, 1, 2, 3, 4, 5, 6].map((n) => <option key={n} value={String(n)}>{n}</option>)}
            </select>
          )}
        </Field>
        <Field label={t('console.currency_euro')} hint={t('console.currency_euro_hint')} error={invalid.euro} required>
          {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={euro} data-testid="currency-euro" onInput={(e) => setEuro(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.currency_wallet_max')} hint={t('console.optional')} error={invalid.walletMax}>
          {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={walletMax} data-testid="currency-wallet-max" onInput={(e) => setWalletMax(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.currency_cap_day')} hint={t('console.optional')} error={invalid.capDay}>
          {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={capDay} data-testid="currency-cap-day" onInput={(e) => setCapDay(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.currency_cap_year')} hint={t('console.optional')} error={invalid.capYear}>
          {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={capYear} data-testid="currency-cap-year" onInput={(e) => setCapYear(e.currentTarget.value)} />}
        </Field>
        {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="currency-error" overrides={{ currency_exists: t('console.currency_exists') }} /></div>}
        <div class="form-wide"><Btn type="submit" icon="plus" disabled={busy} data-testid="currency-create">{t('console.currency_create')}</Btn></div>
      </form>
    </Panel>
  );
}

function Payer({ cur }: { cur: Currency }) {
  const [name, setName] = useState(cur.payer?.name ?? '');
  const [iban, setIban] = useState(cur.payer?.iban ?? '');
  const [bic, setBic] = useState(cur.payer?.bic ?? '');
  const { busy, error, done, run } = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    await run(async () => {
      await consoleApi.patch('/currencies/{code}', {
        path: { code: cur.code },
        body: {
          ...(name.trim() === '' ? {} : { payer_name: name.trim() }),
          ...(iban.trim() === '' ? {} : { payer_iban: iban.trim() }),
          ...(bic.trim() === '' ? {} : { payer_bic: bic.trim().toUpperCase() }),
        },
      });
      await loadSession();
      return t('console.saved');
    });
  };
  return (
    <Panel title={t('console.payer_title', { name: cur.name })} icon="bank" testid="payer">
      <p class="hint">{t('console.payer_intro')}</p>
      {done !== undefined && <Alert kind="success" data-testid="payer-saved">{done}</Alert>}
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <Field label={t('console.payer_name')}>
          {(attrs) => <input {...attrs} type="text" maxLength={70} value={name} data-testid="payer-name" onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.shop_iban')} error={fieldError(error, 'payer_iban') === undefined ? undefined : t('console.shop_iban_invalid')}>
          {(attrs) => <input {...attrs} type="text" class="mono" maxLength={50} value={iban} data-testid="payer-iban" onInput={(e) => setIban(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.payer_bic')} hint={t('console.optional')}>
          {(attrs) => <input {...attrs} type="text" class="mono" maxLength={11} value={bic} data-testid="payer-bic" onInput={(e) => setBic(e.currentTarget.value)} />}
        </Field>
        {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="payer-error" /></div>}
        <div class="form-wide"><Btn type="submit" icon="check" disabled={busy} data-testid="payer-save">{t('console.save')}</Btn></div>
      </form>
    </Panel>
  );
}

/** The caps on what a volunteer earns a day and a year: the legal ceilings change yearly, so an admin changes them here. */
function Caps({ cur }: { cur: Currency }) {
  const [capDay, setCapDay] = useState(cur.volunteer_cap_day ?? '');
  const [capYear, setCapYear] = useState(cur.volunteer_cap_year ?? '');
  const [invalid, setInvalid] = useState<{ capDay?: string; capYear?: string }>({});
  const { busy, error, done, run } = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    const found: typeof invalid = {};
    // Empty: no cap (null).
    const cap = (typed: string, key: keyof typeof invalid) => {
      if (typed.trim() === '') return null;
      const value = amountInput(typed, cur.scale);
      if (value === undefined || /^0*\.?0*$/.test(value)) found[key] = t('console.amount_invalid', { scale: cur.scale });
      return value ?? null;
    };
    const volunteer_cap_day = cap(capDay, 'capDay');
    const volunteer_cap_year = cap(capYear, 'capYear');
    setInvalid(found);
    if (Object.keys(found).length > 0) return;
    await run(async () => {
      await consoleApi.patch('/currencies/{code}', { path: { code: cur.code }, body: { volunteer_cap_day, volunteer_cap_year } });
      await loadSession();
      return t('console.saved');
    });
  };
  return (
    <Panel title={t('console.caps_title', { name: cur.name })} icon="coins" testid="caps">
      <p class="hint">{t('console.caps_intro')}</p>
      {done !== undefined && <Alert kind="success" data-testid="caps-saved">{done}</Alert>}
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <Field label={t('console.currency_cap_day')} hint={t('console.caps_empty')} error={invalid.capDay ?? fieldError(error, 'volunteer_cap_day')}>
          {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={capDay} data-testid="caps-day" onInput={(e) => setCapDay(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.currency_cap_year')} hint={t('console.caps_empty')} error={invalid.capYear ?? fieldError(error, 'volunteer_cap_year')}>
          {(attrs) => <input {...attrs} type="text" inputMode="decimal" value={capYear} data-testid="caps-year" onInput={(e) => setCapYear(e.currentTarget.value)} />}
        </Field>
        {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="caps-error" /></div>}
        <div class="form-wide"><Btn type="submit" icon="check" disabled={busy} data-testid="caps-save">{t('console.save')}</Btn></div>
      </form>
    </Panel>
  );
}

function NewUser({ onCreated }: { onCreated: () => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'coordinator' | 'admin'>('coordinator');
  const [chosen, setChosen] = useState<Set<string>>(new Set(currency.value === undefined ? [] : [currency.value.code]));
  const { busy, error, done, run } = useAction();
  const [invalid, setInvalid] = useState<{ email?: string }>({});
  const submit = async (event: Event) => {
    event.preventDefault();
    const found: typeof invalid = {};
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) found.email = t('console.user_email_invalid');
    // How long and how hard to guess a password must be is the server's rule: its answer shows on the field.
    setInvalid(found);
    if (Object.keys(found).length > 0) return;
    const created = await run(async () => {
      const user = await consoleApi.post('/users', { body: { email: email.trim(), password, role, currencies: [...chosen] } });
      return t('console.user_created', { email: user.email });
    });
    if (!created) return;
    setEmail('');
    setPassword('');
    onCreated();
  };
  return (
    <Panel title={t('console.user_create')} icon="user-plus" testid="user-new">
      <p class="hint">{t('console.user_create_intro')}</p>
      {done !== undefined && <Alert kind="success" data-testid="user-created">{done}</Alert>}
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <Field label={t('console.login_email')} error={invalid.email} required>
          {(attrs) => <input {...attrs} type="email" autoComplete="off" value={email} data-testid="user-email" onInput={(e) => setEmail(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.user_password')} hint={t('console.user_password_hint')} required
          error={fieldError(error, 'password') === undefined ? undefined : t('console.password_weak')}>
          {(attrs) => <input {...attrs} type="password" autoComplete="new-password" value={password} data-testid="user-password" onInput={(e) => setPassword(e.currentTarget.value)} />}
        </Field>
        <fieldset class="field">
          <legend>{t('console.user_role')}</legend>
          <div class="radio-row">
            <label class="radio">
              <input type="radio" name="role" checked={role === 'coordinator'} data-testid="user-role-coordinator" onChange={() => setRole('coordinator')} />
              <span>{t('console.role_coordinator')}</span>
            </label>
            <label class="radio">
              <input type="radio" name="role" checked={role === 'admin'} data-testid="user-role-admin" onChange={() => setRole('admin')} />
              <span>{t('console.role_admin')}</span>
            </label>
          </div>
        </fieldset>
        <fieldset class="field">
          <legend>{t('console.user_currencies')}</legend>
          <div class="radio-row">
            {(currencies.value ?? []).map((c) => (
              <label key={c.code} class="checkbox">
                <input type="checkbox" checked={chosen.has(c.code)} data-testid={`user-currency-${c.code}`} onChange={(e) => {
                  const next = new Set(chosen);
                  if (e.currentTarget.checked) next.add(c.code);
                  else next.delete(c.code);
                  setChosen(next);
                }} />
                <span>{c.name} ({c.code})</span>
              </label>
            ))}
          </div>
        </fieldset>
        {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="user-error" overrides={{ email_exists: t('console.user_exists') }} /></div>}
        <div class="form-wide"><Btn type="submit" icon="user-plus" disabled={busy} data-testid="user-create">{t('console.user_create')}</Btn></div>
      </form>
    </Panel>
  );
}

type UserAction = 'disable' | 'enable' | 'revoke' | 'password';

/** The staff users with their state; disable or enable, log out everywhere, set a new password (each after a confirmation). */
function Users({ version }: { version: number }) {
  const [users, setUsers] = useState<StaffUser[] | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [target, setTarget] = useState<{ user: StaffUser; action: UserAction } | undefined>(undefined);
  const [password, setPassword] = useState('');
  const { busy, error, done, run, reset } = useAction();

  const load = async () => {
    setLoadError(undefined);
    try {
      setUsers((await consoleApi.get('/users')).items);
    } catch (caught) {
      setLoadError(caught);
    }
  };
  useEffect(() => { void load(); }, [version]);

  const ask = (user: StaffUser, action: UserAction) => {
    reset();
    setPassword('');
    setTarget({ user, action });
  };

  const act = async () => {
    if (target === undefined) return;
    const { user, action } = target;
    const ok = await run(async () => {
      if (action === 'disable' || action === 'enable') {
        await consoleApi.patch('/users/{id}', { path: { id: user.id }, body: { disabled: action === 'disable' } });
      } else if (action === 'revoke') {
        await consoleApi.post('/users/{id}/sessions/revoke', { path: { id: user.id } });
      } else {
        await consoleApi.post('/users/{id}/password', { path: { id: user.id }, body: { password } });
      }
      return t(`console.user_done_${action}`, { email: user.email });
    });
    if (!ok) return;
    setTarget(undefined);
    setPassword('');
    await load();
  };

  const email = target?.user.email ?? '';
  const texts: Record<UserAction, { title: string; body: string; ok: string; icon: ConsoleIconName }> = {
    disable: { title: t('console.user_disable_title', { email }), body: t('console.user_disable_body', { email }), ok: t('console.user_disable'), icon: 'ban' },
    enable: { title: t('console.user_enable_title', { email }), body: t('console.user_enable_body', { email }), ok: t('console.user_enable'), icon: 'check' },
    revoke: { title: t('console.user_revoke_title', { email }), body: t('console.user_revoke_body', { email }), ok: t('console.user_revoke'), icon: 'logout' },
    password: { title: t('console.user_set_password_title', { email }), body: t('console.user_set_password_body', { email }), ok: t('console.user_set_password'), icon: 'key' },
  };
  const shown = target === undefined ? undefined : texts[target.action];

  return (
    <Panel title={t('console.users_title')} icon="people" testid="users">
      <p class="hint">{t('console.users_intro')}</p>
      {done !== undefined && <Alert kind="success" data-testid="user-action-done">{done}</Alert>}
      {loadError !== undefined && <ProblemAlert error={loadError} onRetry={() => void load()} />}
      {users === undefined ? (loadError === undefined && <Loading />) : users.length === 0 ? <p class="muted">{t('console.users_none')}</p> : (
        <div class="table-wrap">
          <table class="table" data-testid="user-list">
            <thead>
              <tr>
                <th scope="col">{t('console.login_email')}</th>
                <th scope="col">{t('console.user_role')}</th>
                <th scope="col">{t('console.col_status')}</th>
                <th scope="col" class="row-actions">{t('console.col_actions')}</th>
              </tr>
            </thead>
            <tbody>
              {users.map((user) => {
                const self = user.id === me.value?.id;
                return (
                  <tr key={user.id} data-testid="user-row" data-id={user.id} data-email={user.email} data-disabled={String(user.disabled)}>
                    <td>
                      {user.email}
                      {self && <span class="muted"> ({t('console.user_you')})</span>}
                    </td>
                    <td>
                      {user.role === 'admin' ? t('console.role_admin') : t('console.role_coordinator')}
                      <br />
                      <span class="muted">
                        {user.role === 'admin' ? t('console.user_all_currencies') : user.currencies.length === 0 ? t('console.user_no_currencies') : user.currencies.join(', ')}
                      </span>
                    </td>
                    <td>
                      {user.disabled
                        ? <StatusTag kind="bad" testid="user-status">{t('console.user_disabled')}</StatusTag>
                        : <StatusTag kind="ok" testid="user-status">{t('console.user_active')}</StatusTag>}
                      <br />
                      <span class="muted">
                        {user.password_changed_at === null
                          ? t('console.user_password_unchanged')
                          : t('console.user_password_changed', { when: formatDate(user.password_changed_at, 'short') })}
                      </span>
                    </td>
                    <td class="row-actions">
                      {/* Your own account: change your password from the menu; disabling or logging out yourself here would lock you out. */}
                      {!self && (
                        <div class="row-buttons">
                          {user.disabled
                            ? <Btn small variant="secondary" icon="check" data-testid="user-enable" onClick={() => ask(user, 'enable')}>{t('console.user_enable')}</Btn>
                            : <Btn small variant="danger" icon="ban" data-testid="user-disable" onClick={() => ask(user, 'disable')}>{t('console.user_disable')}</Btn>}
                          <Btn small variant="secondary" icon="logout" data-testid="user-revoke" onClick={() => ask(user, 'revoke')}>{t('console.user_revoke')}</Btn>
                          <Btn small variant="secondary" icon="key" data-testid="user-set-password" onClick={() => ask(user, 'password')}>{t('console.user_set_password')}</Btn>
                        </div>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={target !== undefined}
        title={shown?.title ?? ''}
        confirmLabel={shown?.ok ?? ''}
        confirmIcon={shown?.icon ?? 'check'}
        danger={target?.action === 'disable'}
        busy={busy}
        onCancel={() => setTarget(undefined)}
        onConfirm={() => void act()}
        testid="user-dialog"
      >
        {shown !== undefined && <p>{shown.body}</p>}
        {target?.action === 'password' && (
          <Field label={t('console.password_new')} hint={t('console.password_hint')} required
            error={fieldError(error, 'password') === undefined ? undefined : t('console.password_weak')}>
            {(attrs) => <input {...attrs} type="password" autoComplete="new-password" value={password} data-testid="user-new-password" onInput={(e) => setPassword(e.currentTarget.value)} />}
          </Field>
        )}
        {error !== undefined && <ProblemAlert error={error} testid="user-action-error" overrides={{ last_admin: t('console.last_admin') }} />}
      </ConfirmDialog>
    </Panel>
  );
}

export function Admin() {
  const cur = currency.value;
  // A new user shows up in the list at once.
  const [users_version, setUsersVersion] = useState(0);
  return (
    <ConsolePage title={t('console.admin_title')} testid="console-admin">
      {!isAdmin.value ? <Alert kind="info">{t('console.admin_only')}</Alert> : (
        <>
          <div class="detail-grid">
            <NewCurrency />
            <NewUser onCreated={() => setUsersVersion((v) => v + 1)} />
          </div>
          <Users version={users_version} />
          {cur !== undefined && <Payer key={cur.code} cur={cur} />}
          {cur !== undefined && <Caps key={`caps-${cur.code}`} cur={cur} />}
        </>
      )}
    </ConsolePage>
  );
}
