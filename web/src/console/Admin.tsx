import { useState } from 'preact/hooks';
import { ApiError, consoleApi } from '../api.js';
import { t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { Alert } from '../ui/Alert.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Btn, Field, Panel } from './ui.js';
import { amountInput, chooseCurrency, currencies, currency, isAdmin, loadSession } from './state.js';
import type { Currency } from './state.js';

function fieldError(error: unknown, path: string): string | undefined {
  return error instanceof ApiError ? error.errors.find((e) => e.path === path)?.message : undefined;
}

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

function NewUser() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [role, setRole] = useState<'coordinator' | 'admin'>('coordinator');
  const [chosen, setChosen] = useState<Set<string>>(new Set(currency.value === undefined ? [] : [currency.value.code]));
  const { busy, error, done, run } = useAction();
  const [invalid, setInvalid] = useState<{ email?: string; password?: string }>({});
  const submit = async (event: Event) => {
    event.preventDefault();
    const found: typeof invalid = {};
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) found.email = t('console.user_email_invalid');
    if (password.length < 10) found.password = t('console.user_password_short');
    setInvalid(found);
    if (Object.keys(found).length > 0) return;
    const created = await run(async () => {
      const user = await consoleApi.post('/users', { body: { email: email.trim(), password, role, currencies: [...chosen] } });
      return t('console.user_created', { email: user.email });
    });
    if (!created) return;
    setEmail('');
    setPassword('');
  };
  return (
    <Panel title={t('console.user_create')} icon="user-plus" testid="user-new">
      <p class="hint">{t('console.user_create_intro')}</p>
      {done !== undefined && <Alert kind="success" data-testid="user-created">{done}</Alert>}
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <Field label={t('console.login_email')} error={invalid.email} required>
          {(attrs) => <input {...attrs} type="email" autoComplete="off" value={email} data-testid="user-email" onInput={(e) => setEmail(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.user_password')} hint={t('console.user_password_hint')} error={invalid.password} required>
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

export function Admin() {
  const cur = currency.value;
  return (
    <ConsolePage title={t('console.admin_title')} testid="console-admin">
      {!isAdmin.value ? <Alert kind="info">{t('console.admin_only')}</Alert> : (
        <>
          <div class="detail-grid">
            <NewCurrency />
            <NewUser />
          </div>
          {cur !== undefined && <Payer key={cur.code} cur={cur} />}
        </>
      )}
    </ConsolePage>
  );
}
