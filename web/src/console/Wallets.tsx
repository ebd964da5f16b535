import { useEffect, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { consoleApi, fetchRaw } from '../api.js';
import { formatAmount, formatDate, formatDay, locales, t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { mistypedCardCode } from '../lib/links.js';
import { clockTime } from '../lib/lockout.js';
import { usePagedList } from '../lib/paging.js';
import { Alert } from '../ui/Alert.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { QrCode } from '../ui/QrCode.js';
import { ConsolePage } from './Shell.js';
import { HelpersPanel } from './Helpers.js';
import { Statement } from './Statement.js';
import { PersonData } from './Privacy.js';
import { Amount, Btn, BtnLink, ConfirmDialog, Field, Panel, StatusTag } from './ui.js';
import { currency, fieldError } from './state.js';
import type { Account, Card, Currency, VolunteerListItem, WalletDetail as Wallet } from './state.js';

const page_size = 50;

/** Opens the printable card sheet of `wallets` in a new window. */
export async function printCards(code: string, wallets: string[]): Promise<void> {
  const query = wallets.map((id) => `wallet=${encodeURIComponent(id)}`).join('&');
  await openPrintable(`/currencies/${encodeURIComponent(code)}/cards/sheet?${query}`);
}

/**
 * Opens a printable page of the API (a card sheet, a person's export) in a new window. The page
 * needs the console's token, so it is fetched here and shown from a blob: URL. The window is
 * opened before the request, while the click still counts as the user's, so no popup blocker
 * stops it.
 */
export async function openPrintable(path: string): Promise<void> {
  const target = window.open('', '_blank');
  try {
    const response = await fetchRaw('console', path);
    const html = await response.text();
    const url = URL.createObjectURL(new Blob([html], { type: 'text/html;charset=utf-8' }));
    if (target === null) {
      window.open(url, '_blank');
    } else {
      target.location.href = url;
      void adoptSheetStyles(target, url, html);
    }
    setTimeout(() => URL.revokeObjectURL(url), 10 * 60_000);
  } catch (error) {
    target?.close();
    throw error;
  }
}

/**
 * A blob: page inherits this page's Content-Security-Policy, which allows no inline <style>: the
 * sheet's own print styles are blocked there. Once it has loaded, give them to it as a
 * constructed stylesheet (not an inline style), so it prints as designed.
 */
async function adoptSheetStyles(target: Window, url: string, html: string): Promise<void> {
  const css = [...new DOMParser().parseFromString(html, 'text/html').querySelectorAll('style')].map((s) => s.textContent ?? '').join('\n');
  if (css.trim() === '') return;
  for (let tries = 0; tries < 100; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    try {
      if (target.closed) return;
      if (target.location.href !== url || target.document.readyState !== 'complete') continue;
      const View = target as Window & typeof globalThis;
      const sheet = new View.CSSStyleSheet();
      sheet.replaceSync(css);
      target.document.adoptedStyleSheets = [...target.document.adoptedStyleSheets, sheet];
      return;
    } catch {
      // Not reachable yet (still about:blank of another origin during navigation): try again.
    }
  }
}

function languageName(code: string): string {
  return (locales as Record<string, { name: string }>)[code]?.name ?? code;
}

export function accountStatusTag(account: Pick<Account, 'status'>) {
  const kind = account.status === 'active' ? 'ok' : account.status === 'frozen' ? 'warn' : 'bad';
  return <StatusTag kind={kind} testid="account-status">{t(`console.account_status_${account.status}`)}</StatusTag>;
}

/** A volunteer's current card in the list: works, locked (too many wrong PINs), blocked, replaced or none. */
function cardStatusTag(card: VolunteerListItem['card']) {
  const state = card === null ? 'none' : card.status === 'active' && card.locked ? 'locked' : card.status;
  const tag = {
    active: <StatusTag kind="ok">{t('console.card_active')}</StatusTag>,
    locked: <StatusTag kind="warn" icon="lock">{t('console.card_locked')}</StatusTag>,
    blocked: <StatusTag kind="bad">{t('console.card_blocked')}</StatusTag>,
    replaced: <StatusTag kind="neutral">{t('console.card_replaced')}</StatusTag>,
    none: <span class="muted">{t('console.card_none_short')}</span>,
  }[state];
  return <span data-testid="wallet-card-status" data-status={state}>{tag}</span>;
}

function WalletList({ cur }: { cur: Currency }) {
  const [q, setQ] = useState('');
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const { busy: printing, error: printError, run: runPrint } = useAction();

  // By name (accents and case do not matter) or by card code, with or without dashes.
  const list = usePagedList((cursor) => consoleApi.get('/currencies/{code}/wallets', {
    path: { code: cur.code },
    query: { q: query === '' ? undefined : query, limit: page_size, cursor },
  }));
  const { items, error, reload: load } = list;
  useEffect(() => { void load(); }, [cur.code, query]);
  const code_typo = query !== '' && mistypedCardCode(query) !== undefined;

  const toggle = (id: string, on: boolean) => {
    const next = new Set(selected);
    if (on) next.add(id);
    else next.delete(id);
    setSelected(next);
  };
  const all_selected = items !== undefined && items.length > 0 && items.every((w) => selected.has(w.account));

  const print = () => runPrint(() => printCards(cur.code, [...selected]));

  return (
    <>
      <form class="toolbar" role="search" onSubmit={(event) => {
        event.preventDefault();
        setQuery(q.trim());
      }}>
        <Field label={t('console.wallet_search')}>
          {(attrs) => <input {...attrs} type="search" value={q} data-testid="wallet-search" placeholder={t('console.wallet_search_placeholder')} onInput={(e) => setQ(e.currentTarget.value)} />}
        </Field>
        <Btn type="submit" icon="search" data-testid="wallet-search-submit">{t('console.search')}</Btn>
        <Btn icon="print" variant="secondary" disabled={selected.size === 0 || printing} onClick={() => void print()} data-testid="print-cards">
          {t('console.print_selected', { count: selected.size })}
        </Btn>
      </form>
      {printError !== undefined && <ProblemAlert error={printError} testid="print-error" />}
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} />}
      {items === undefined ? (error === undefined && <Loading />) : items.length === 0 ? (
        code_typo
          ? <Alert kind="warning" data-testid="wallets-code-typo"><p data-code="card_code_typo">{t('common.errors.card_code_typo')}</p></Alert>
          : <p class="muted" data-testid="wallets-empty">{query === '' ? t('console.wallets_none') : t('console.wallets_none_found', { q: query })}</p>
      ) : (
        <div class="table-wrap">
          <table class="table" data-testid="wallet-list">
            <thead>
              <tr>
                <th scope="col" class="check">
                  <input type="checkbox" checked={all_selected} aria-label={t('console.select_all')} data-testid="wallet-select-all"
                    onChange={(e) => setSelected(e.currentTarget.checked ? new Set(items.map((w) => w.account)) : new Set())} />
                </th>
                <th scope="col">{t('console.col_name')}</th>
                <th scope="col">{t('console.card_code')}</th>
                <th scope="col">{t('console.col_card')}</th>
                <th scope="col">{t('console.register_language')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((w) => (
                <tr key={w.account} data-testid="wallet-row" data-id={w.account} data-name={w.display_name}>
                  <td class="check">
                    <input type="checkbox" checked={selected.has(w.account)} aria-label={t('console.select_wallet', { name: w.display_name })} data-testid="wallet-select"
                      onChange={(e) => toggle(w.account, e.currentTarget.checked)} />
                  </td>
                  <td>
                    <a href={`/console/wallets/${w.account}`} data-testid="wallet-open">{w.display_name}</a>
                    {w.full_name !== null && <><br /><span class="muted" data-testid="wallet-full-name">{w.full_name}</span></>}
                  </td>
                  <td class="nowrap mono">{w.card?.display_code ?? '—'}</td>
                  <td>{cardStatusTag(w.card)}</td>
                  <td>{languageName(w.language)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.hasMore && <Btn variant="secondary" icon="refresh" onClick={() => void list.more()} data-testid="wallets-more">{t('console.load_more')}</Btn>}
    </>
  );
}

export function Wallets() {
  const cur = currency.value;
  return (
    <ConsolePage title={t('console.wallets_title')} testid="console-wallets"
      actions={<BtnLink href="/console/wallets/new" icon="user-plus" data-testid="wallet-new">{t('console.wallet_register')}</BtnLink>}>
      <p class="lead">{t('console.wallets_intro')}</p>
      {cur === undefined ? <p>{t('console.no_currency')}</p> : <WalletList cur={cur} />}
    </ConsolePage>
  );
}

// Register -------------------------------------------------------------------------------------

type Registered = { account: Account; card: Wallet['card']; display_name: string };

export function RegisterWallet() {
  const cur = currency.value;
  const [name, setName] = useState('');
  const [pin, setPin] = useState('');
  const [pin2, setPin2] = useState('');
  const [language, setLanguage] = useState('nl');
  const [errors, setErrors] = useState<{ name?: string; pin?: string; pin2?: string }>({});
  const { busy, error, run } = useAction();
  const [done, setDone] = useState<Registered | undefined>(undefined);
  const [printError, setPrintError] = useState<unknown>(undefined);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (cur === undefined) return;
    const found: typeof errors = {};
    if (name.trim() === '') found.name = t('console.register_name_missing');
    if (!/^[0-9]{4,6}$/.test(pin)) found.pin = t('console.register_pin_format');
    else if (pin !== pin2) found.pin2 = t('console.register_pin_mismatch');
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    await run(async () => {
      const answer = await consoleApi.post('/currencies/{code}/wallets', {
        path: { code: cur.code }, body: { display_name: name.trim(), pin, language: language as 'nl' | 'en' | 'fr' },
      });
      setDone({ account: answer.account, card: answer.card as Wallet['card'], display_name: answer.display_name });
      setName('');
      setPin('');
      setPin2('');
    });
  };

  return (
    <ConsolePage title={t('console.register_title')} testid="console-register">
      {done !== undefined && (
        <Alert kind="success" title={t('console.register_done', { name: done.display_name })} data-testid="register-success">
          <p>
            {t('console.register_card')}{' '}
            <strong class="card-code" data-testid="register-card" data-card={done.card?.code}>{done.card?.display_code}</strong>
          </p>
          <div class="button-row">
            <Btn icon="print" variant="secondary" data-testid="register-print" onClick={() => {
              setPrintError(undefined);
              printCards(cur?.code ?? '', [done.account.id]).catch(setPrintError);
            }}>{t('console.print_card')}</Btn>
            <BtnLink href={`/console/wallets/${done.account.id}`} icon="wallet" variant="secondary" data-testid="register-open">{t('console.open_wallet')}</BtnLink>
          </div>
          {printError !== undefined && <ProblemAlert error={printError} testid="print-error" />}
        </Alert>
      )}
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <p class="form-intro">{t('console.register_intro')}</p>
        <Field label={t('console.register_name')} hint={t('console.register_name_hint')} error={errors.name} required>
          {(attrs) => <input {...attrs} type="text" maxLength={100} autoComplete="off" value={name} data-testid="register-name" onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field label={t('console.register_language')} hint={t('console.register_language_hint')}>
          {(attrs) => (
            <select {...attrs} value={language} data-testid="register-language" onChange={(e) => setLanguage(e.currentTarget.value)}>
              {Object.entries(locales).map(([code, info]) => <option key={code} value={code} lang={info.intl}>{info.name}</option>)}
            </select>
          )}
        </Field>
        <Field label={t('console.register_pin')} hint={t('console.register_pin_hint')} required
          error={errors.pin ?? (fieldError(error, 'pin') === undefined ? undefined : t('common.pin_weak'))}>
          {(attrs) => <input {...attrs} type="password" inputMode="numeric" autoComplete="new-password" maxLength={6} value={pin} data-testid="register-pin" onInput={(e) => setPin(e.currentTarget.value.replace(/[^0-9]/g, ''))} />}
        </Field>
        <Field label={t('console.register_pin_again')} error={errors.pin2} required>
          {(attrs) => <input {...attrs} type="password" inputMode="numeric" autoComplete="new-password" maxLength={6} value={pin2} data-testid="register-pin-again" onInput={(e) => setPin2(e.currentTarget.value.replace(/[^0-9]/g, ''))} />}
        </Field>
        {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="register-error" /></div>}
        <div class="form-wide button-row">
          <Btn type="submit" icon="user-plus" disabled={busy || cur === undefined} data-testid="register-submit">{t('console.register_submit')}</Btn>
          <BtnLink href="/console/wallets" variant="ghost" icon="back">{t('console.back_to_wallets')}</BtnLink>
        </div>
      </form>
    </ConsolePage>
  );
}

// One wallet -------------------------------------------------------------------------------------

type ProfileField = 'display_name' | 'full_name' | 'language' | 'phone' | 'email' | 'note';
type Profile = Record<ProfileField, string>;
type ProfileChanges = {
  display_name?: string; full_name?: string | null; language?: 'nl' | 'en' | 'fr'; phone?: string | null; email?: string | null; note?: string | null;
};
const profile_fields: ProfileField[] = ['display_name', 'full_name', 'language', 'phone', 'email', 'note'];

const profileOf = (w: Wallet): Profile => ({
  display_name: w.display_name, full_name: w.full_name ?? '', language: w.language, phone: w.phone ?? '', email: w.email ?? '', note: w.note ?? '',
});

/** What changed between the saved profile and the form; an emptied optional field is cleared (null). */
function profileChanges(saved: Profile, typed: Profile): ProfileChanges {
  const changes: Record<string, string | null> = {};
  for (const field of profile_fields) {
    const value = typed[field].trim();
    if (value !== saved[field]) changes[field] = value === '' ? null : value;
  }
  return changes as ProfileChanges;
}

/**
 * The volunteer's details: the display name and language (also on the card and in the wallet),
 * the full name, and phone, email and a note that only coordinators see. Saves what changed.
 */
function WalletProfile({ wallet, onSaved }: { wallet: Wallet; onSaved: (updated: Wallet) => void }) {
  const [typed, setTyped] = useState<Profile>(() => profileOf(wallet));
  const [nameMissing, setNameMissing] = useState(false);
  const [notice, setNotice] = useState<'saved' | 'unchanged' | undefined>(undefined);
  const { busy, error, run } = useAction();
  useEffect(() => setTyped(profileOf(wallet)), [wallet.account.id]);

  const input = (field: ProfileField) => (event: { currentTarget: { value: string } }) => {
    setTyped({ ...typed, [field]: event.currentTarget.value });
    setNotice(undefined);
  };
  /** The server refused a field (422): our own words for it, never the server's English. */
  const refused = (field: ProfileField, words: string) => (fieldError(error, field) === undefined ? undefined : words);

  const submit = async (event: Event) => {
    event.preventDefault();
    setNotice(undefined);
    const missing = typed.display_name.trim() === '';
    setNameMissing(missing);
    if (missing) return;
    const changes = profileChanges(profileOf(wallet), typed);
    if (Object.keys(changes).length === 0) {
      setNotice('unchanged');
      return;
    }
    const saved = await run(async () => {
      const updated = await consoleApi.patch('/wallets/{id}', { path: { id: wallet.account.id }, body: changes });
      setTyped(profileOf(updated));
      onSaved(updated);
    });
    if (saved) setNotice('saved');
  };

  const generic = t('common.errors.validation_failed');
  return (
    <Panel title={t('console.profile_title')} icon="edit" testid="wallet-profile">
      <form class="form-grid" onSubmit={(event) => void submit(event)} noValidate>
        <p class="form-intro" data-testid="profile-private-note">{t('console.profile_intro')}</p>
        <Field label={t('console.profile_display_name')} hint={t('console.profile_display_name_hint')} required
          error={nameMissing ? t('console.profile_display_name_missing') : refused('display_name', t('console.profile_display_name_missing'))}>
          {(attrs) => <input {...attrs} type="text" maxLength={100} autoComplete="off" value={typed.display_name} data-testid="profile-display-name" onInput={input('display_name')} />}
        </Field>
        <Field label={t('console.profile_full_name')} hint={t('console.profile_full_name_hint')} error={refused('full_name', generic)}>
          {(attrs) => <input {...attrs} type="text" maxLength={200} autoComplete="off" value={typed.full_name} data-testid="profile-full-name" onInput={input('full_name')} />}
        </Field>
        <Field label={t('console.register_language')} hint={t('console.register_language_hint')} error={refused('language', generic)}>
          {(attrs) => (
            <select {...attrs} value={typed.language} data-testid="profile-language" onChange={input('language')}>
              {Object.entries(locales).map(([code, info]) => <option key={code} value={code} lang={info.intl}>{info.name}</option>)}
            </select>
          )}
        </Field>
        <Field label={t('console.profile_phone')} hint={t('console.profile_private')} error={refused('phone', t('console.profile_phone_invalid'))}>
          {(attrs) => <input {...attrs} type="tel" maxLength={40} autoComplete="off" value={typed.phone} data-testid="profile-phone" onInput={input('phone')} />}
        </Field>
        <Field label={t('console.profile_email')} hint={t('console.profile_private')} error={refused('email', t('console.profile_email_invalid'))}>
          {(attrs) => <input {...attrs} type="email" maxLength={254} autoComplete="off" value={typed.email} data-testid="profile-email" onInput={input('email')} />}
        </Field>
        <div class="form-wide">
          <Field label={t('console.profile_note')} hint={`${t('console.profile_private')} ${t('console.profile_note_hint')}`} error={refused('note', generic)}>
            {(attrs) => <textarea {...attrs} rows={3} maxLength={1000} value={typed.note} data-testid="profile-note" onInput={input('note')} />}
          </Field>
        </div>
        {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="profile-error" /></div>}
        {notice === 'saved' && <div class="form-wide"><Alert kind="success" data-testid="profile-saved">{t('console.profile_saved')}</Alert></div>}
        {notice === 'unchanged' && <div class="form-wide"><Alert kind="info" data-testid="profile-unchanged">{t('console.profile_unchanged')}</Alert></div>}
        <div class="form-wide button-row">
          <Btn type="submit" icon="check" disabled={busy} data-testid="profile-save">{t('console.profile_save')}</Btn>
        </div>
      </form>
    </Panel>
  );
}

type CardAction = 'block' | 'unblock' | 'unlock' | 'reissue' | 'pin';

/** A locked card in words: until when, or until a coordinator unlocks it. */
function lockedText(card: Card): string {
  return card.locked_until === null ? t('console.card_locked_held') : t('console.card_locked_until', { time: clockTime(card.locked_until) });
}

export function WalletDetail() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const [wallet, setWallet] = useState<Wallet | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [confirming, setConfirming] = useState<CardAction | undefined>(undefined);
  const { busy, error: actionError, run, reset } = useAction();
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [printError, setPrintError] = useState<unknown>(undefined);
  const [newPin, setNewPin] = useState('');
  const [newPin2, setNewPin2] = useState('');
  const [pinErrors, setPinErrors] = useState<{ pin?: string; pin2?: string }>({});

  const load = async () => {
    setError(undefined);
    try {
      setWallet(await consoleApi.get('/wallets/{id}', { path: { id } }));
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => { void load(); }, [id]);

  const ask = (action: CardAction) => {
    reset();
    setNewPin('');
    setNewPin2('');
    setPinErrors({});
    setConfirming(action);
  };

  /** The volunteer typed the new PIN twice: checked here for form, by the server for strength. */
  const pinTyped = (): boolean => {
    const found: typeof pinErrors = {};
    if (!/^[0-9]{4,6}$/.test(newPin)) found.pin = t('console.register_pin_format');
    else if (newPin !== newPin2) found.pin2 = t('console.register_pin_mismatch');
    setPinErrors(found);
    return Object.keys(found).length === 0;
  };

  const act = async (action: CardAction) => {
    if (wallet === undefined) return;
    if (action === 'pin' && !pinTyped()) return;
    setMessage(undefined);
    await run(async () => {
      if (action === 'pin' && wallet.card !== null) {
        await consoleApi.post('/cards/{code}/pin', { path: { code: wallet.card.code }, body: { pin: newPin } });
        setNewPin('');
        setNewPin2('');
        setMessage(t('console.card_done_pin'));
      } else if (action === 'reissue') {
        const card = await consoleApi.post('/wallets/{id}/cards', { path: { id } });
        setMessage(t('console.card_reissued', { code: card.display_code }));
      } else if (action !== 'pin' && wallet.card !== null) {
        const path = ({ block: '/cards/{code}/block', unblock: '/cards/{code}/unblock', unlock: '/cards/{code}/unlock' } as const)[action];
        await consoleApi.post(path, { path: { code: wallet.card.code } });
        setMessage(t(`console.card_done_${action}`));
      }
      setConfirming(undefined);
      await load();
    });
  };

  const cur = currency.value;
  const card = wallet?.card ?? null;
  const name = wallet?.display_name ?? '';
  const confirm_texts = {
    reissue: { title: t('console.reissue_title'), body: t('console.reissue_body', { name }), ok: t('console.reissue_confirm'), icon: 'card' as const },
    block: { title: t('console.block_title'), body: t('console.block_body', { name }), ok: t('console.block_confirm'), icon: 'ban' as const },
    unblock: { title: t('console.unblock_title'), body: t('console.unblock_body', { name }), ok: t('console.unblock_confirm'), icon: 'check' as const },
    unlock: { title: t('console.unlock_title'), body: t('console.unlock_body', { name }), ok: t('console.unlock_confirm'), icon: 'unlock' as const },
    pin: { title: t('console.set_pin_title', { name }), body: t('console.set_pin_body', { name }), ok: t('console.set_pin_confirm'), icon: 'key' as const },
  };

  return (
    <ConsolePage title={wallet?.display_name ?? t('console.wallet_title')} testid="console-wallet"
      actions={<BtnLink href="/console/wallets" variant="ghost" icon="back">{t('console.back_to_wallets')}</BtnLink>}>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} />}
      {wallet === undefined ? (error === undefined && <Loading />) : (
        <>
          {message !== undefined && <Alert kind="success" data-testid="card-action-done">{message}</Alert>}
          {wallet.erased_at !== null && <Alert kind="info" data-testid="wallet-erased">{t('console.erased_notice', { date: formatDate(wallet.erased_at, 'date') })}</Alert>}
          <div class="detail-grid">
            <Panel title={t('console.wallet_account')} icon="wallet" testid="wallet-detail">
              <dl class="facts">
                <div><dt>{t('console.col_name')}</dt><dd data-testid="wallet-name">{wallet.display_name}</dd></div>
                {wallet.full_name !== null && <div><dt>{t('console.full_name')}</dt><dd data-testid="wallet-full-name">{wallet.full_name}</dd></div>}
                <div><dt>{t('console.col_balance')}</dt><dd><Amount value={wallet.account.balance} currency={wallet.account.currency} testid="wallet-balance" /></dd></div>
                <div><dt>{t('console.col_status')}</dt><dd>{accountStatusTag(wallet.account)}</dd></div>
                <div><dt>{t('console.register_language')}</dt><dd>{languageName(wallet.language)}</dd></div>
                <div><dt>{t('console.col_registered')}</dt><dd>{formatDate(wallet.account.created_at, 'date')}</dd></div>
                {wallet.expiring.length > 0 && (
                  <div data-testid="wallet-expiring">
                    <dt>{t('console.expiring_title')}</dt>
                    <dd>
                      <ul class="expiring-list">
                        {wallet.expiring.map((lot) => (
                          <li key={lot.on} data-testid="wallet-expiring-item" data-amount={lot.amount} data-on={lot.on}>
                            {t('console.expiring_item', { amount: formatAmount(lot.amount, wallet.account.currency), date: formatDay(lot.on) })}
                          </li>
                        ))}
                      </ul>
                    </dd>
                  </div>
                )}
                {wallet.earning_room !== null && (
                  <div data-testid="wallet-earning-room" data-day={wallet.earning_room.day ?? ''} data-year={wallet.earning_room.year ?? ''}>
                    <dt>{t('console.room_title')}</dt>
                    <dd>
                      {[
                        ...(wallet.earning_room.day === null ? [] : [t('console.room_day', { amount: formatAmount(wallet.earning_room.day, wallet.account.currency) })]),
                        ...(wallet.earning_room.year === null ? [] : [t('console.room_year', { amount: formatAmount(wallet.earning_room.year, wallet.account.currency) })]),
                      ].join(' · ')}
                    </dd>
                  </div>
                )}
              </dl>
            </Panel>
            <Panel title={t('console.card_title')} icon="card" testid="wallet-card">
              {card === null ? <p>{t('console.card_none')}</p> : (
                <div class="card-panel">
                  <QrCode text={card.url} size={150} label={t('console.card_qr', { name: wallet.display_name })} testid="wallet-card-qr" />
                  <dl class="facts">
                    <div><dt>{t('console.card_code')}</dt><dd class="card-code" data-testid="wallet-card-code" data-card={card.code}>{card.display_code}</dd></div>
                    <div>
                      <dt>{t('console.col_status')}</dt>
                      <dd data-testid="card-status" data-status={card.status} data-locked={String(card.locked)} data-locked-until={card.locked ? card.locked_until ?? 'unlock' : undefined}>
                        {card.status === 'active' && !card.locked && <StatusTag kind="ok">{t('console.card_active')}</StatusTag>}
                        {card.status === 'blocked' && <StatusTag kind="bad">{t('console.card_blocked')}</StatusTag>}
                        {card.status === 'replaced' && <StatusTag kind="neutral">{t('console.card_replaced')}</StatusTag>}
                        {card.locked && <StatusTag kind="warn" icon="lock" testid="card-locked">{lockedText(card)}</StatusTag>}
                      </dd>
                    </div>
                    <div><dt>{t('console.card_since')}</dt><dd>{formatDate(card.created_at, 'date')}</dd></div>
                  </dl>
                </div>
              )}
              <div class="button-row">
                <Btn icon="print" variant="secondary" data-testid="print-card" disabled={cur === undefined || card === null} onClick={() => {
                  setPrintError(undefined);
                  printCards(cur?.code ?? '', [wallet.account.id]).catch(setPrintError);
                }}>{t('console.print_card')}</Btn>
                {wallet.erased_at === null && <Btn icon="card" variant="secondary" data-testid="reissue-card" onClick={() => ask('reissue')}>{t('console.reissue')}</Btn>}
                {card !== null && card.locked && <Btn icon="unlock" variant="secondary" data-testid="unlock-card" onClick={() => ask('unlock')}>{t('console.unlock')}</Btn>}
                {card !== null && card.status !== 'replaced' && <Btn icon="key" variant="secondary" data-testid="set-pin" onClick={() => ask('pin')}>{t('console.set_pin')}</Btn>}
                {card !== null && card.status === 'active' && <Btn icon="ban" variant="danger" data-testid="block-card" onClick={() => ask('block')}>{t('console.block')}</Btn>}
                {card !== null && card.status === 'blocked' && <Btn icon="check" variant="secondary" data-testid="unblock-card" onClick={() => ask('unblock')}>{t('console.unblock')}</Btn>}
              </div>
              {printError !== undefined && <ProblemAlert error={printError} testid="print-error" />}
            </Panel>
          </div>
          {wallet.erased_at === null && <WalletProfile wallet={wallet} onSaved={setWallet} />}
          {wallet.erased_at === null && <HelpersPanel wallet={wallet.account.id} name={wallet.display_name} />}
          <PersonData wallet={wallet} openPrintable={openPrintable} onErased={(pseudonym) => {
            setMessage(t('console.erase_done', { pseudonym }));
            void load();
          }} />
          <Panel title={t('console.statement')} icon="list">
            <Statement key={wallet.erased_at ?? 'live'} account={wallet.account.id} currency={wallet.account.currency} onChanged={() => void load()} />
          </Panel>
          <BtnLink href={`/console/accounts/${wallet.account.id}`} variant="ghost" icon="book">{t('console.open_account')}</BtnLink>
          <ConfirmDialog
            open={confirming !== undefined}
            title={confirming === undefined ? '' : confirm_texts[confirming].title}
            confirmLabel={confirming === undefined ? '' : confirm_texts[confirming].ok}
            confirmIcon={confirming === undefined ? 'check' : confirm_texts[confirming].icon}
            danger={confirming === 'block' || confirming === 'reissue'}
            busy={busy}
            onCancel={() => setConfirming(undefined)}
            onConfirm={() => confirming !== undefined && void act(confirming)}
            testid="card-dialog"
          >
            {confirming !== undefined && <p>{confirm_texts[confirming].body}</p>}
            {confirming === 'pin' && (
              <div class="stack" data-testid="pin-fields">
                <Field label={t('console.set_pin_new')} hint={t('console.register_pin_hint')} required
                  error={pinErrors.pin ?? (fieldError(actionError, 'pin') === undefined ? undefined : t('common.pin_weak'))}>
                  {(attrs) => <input {...attrs} type="password" inputMode="numeric" autoComplete="new-password" maxLength={6} value={newPin} data-testid="set-pin-new" onInput={(e) => setNewPin(e.currentTarget.value.replace(/[^0-9]/g, ''))} />}
                </Field>
                <Field label={t('console.set_pin_again')} error={pinErrors.pin2} required>
                  {(attrs) => <input {...attrs} type="password" inputMode="numeric" autoComplete="new-password" maxLength={6} value={newPin2} data-testid="set-pin-again" onInput={(e) => setNewPin2(e.currentTarget.value.replace(/[^0-9]/g, ''))} />}
                </Field>
              </div>
            )}
            {actionError !== undefined && <ProblemAlert error={actionError} testid="card-action-error" />}
          </ConfirmDialog>
        </>
      )}
    </ConsolePage>
  );
}
