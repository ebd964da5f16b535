import { useEffect, useState } from 'preact/hooks';
import { useRoute } from 'preact-iso';
import { ApiError, consoleApi } from '../api.js';
import { formatDate, t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { Alert } from '../ui/Alert.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Statement } from './Statement.js';
import { Amount, Btn, BtnLink, ConfirmDialog, Field, Panel } from './ui.js';
import { currency } from './state.js';
import type { Shop } from './state.js';
import { accountStatusTag } from './Wallets.js';

type Device = { id: string; name: string; created_at: string; last_seen_at: string };

/** A pairing code, big enough to type over from across the counter, with how to use it. */
function PairingCode({ code, expires }: { code: string; expires: string }) {
  return (
    <div class="pairing" data-testid="pairing">
      <p class="pairing-label">{t('console.pairing_code')}</p>
      <p class="pairing-code" data-testid="pairing-code" data-code={code}>{code}</p>
      <p>{t('console.pairing_how', { url: `${location.origin}/shop` })}</p>
      <p class="hint">{t('console.pairing_expires', { time: formatDate(expires, 'datetime') })}</p>
    </div>
  );
}

export function Shops() {
  const cur = currency.value;
  const [shops, setShops] = useState<Shop[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const load = async () => {
    if (cur === undefined) return;
    setError(undefined);
    try {
      setShops((await consoleApi.get('/currencies/{code}/shops', { path: { code: cur.code } })).items);
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => { void load(); }, [cur?.code]);

  return (
    <ConsolePage title={t('console.shops_title')} testid="console-shops"
      actions={<BtnLink href="/console/shops/new" icon="plus" data-testid="shop-new">{t('console.shop_new')}</BtnLink>}>
      <p class="lead">{t('console.shops_intro')}</p>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} />}
      {cur === undefined ? <p>{t('console.no_currency')}</p> : shops === undefined ? (error === undefined && <Loading />) : shops.length === 0 ? (
        <p class="muted">{t('console.shops_none')}</p>
      ) : (
        <div class="table-wrap">
          <table class="table" data-testid="shop-list">
            <thead>
              <tr>
                <th scope="col">{t('console.col_name')}</th>
                <th scope="col" class="num">{t('console.col_balance')}</th>
                <th scope="col">{t('console.shop_iban')}</th>
                <th scope="col">{t('console.shop_address')}</th>
                <th scope="col">{t('console.col_status')}</th>
              </tr>
            </thead>
            <tbody>
              {shops.map((s) => (
                <tr key={s.account.id} data-testid="shop-row" data-id={s.account.id} data-name={s.name}>
                  <td><a href={`/console/shops/${s.account.id}`} data-testid="shop-open">{s.name}</a></td>
                  <td class="num"><Amount value={s.account.balance} currency={cur.code} /></td>
                  <td>{s.iban ?? <span class="text-warn">{t('console.shop_no_iban')}</span>}</td>
                  <td>{s.address ?? '—'}</td>
                  <td>{accountStatusTag(s.account)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </ConsolePage>
  );
}

/** Name, IBAN, address and contact of a shop; `initial` when editing. */
function ShopFields({ initial, busy, error, submitLabel, onSubmit }: {
  initial?: Shop; busy: boolean; error: unknown; submitLabel: string;
  onSubmit: (values: { name: string; iban: string; address: string; contact: string }) => void;
}) {
  const [name, setName] = useState(initial?.name ?? '');
  const [iban, setIban] = useState(initial?.iban ?? '');
  const [address, setAddress] = useState(initial?.address ?? '');
  const [contact, setContact] = useState(initial?.contact ?? '');
  const [nameError, setNameError] = useState<string | undefined>(undefined);
  const iban_error = error instanceof ApiError && error.errors.some((e) => e.path === 'iban') ? t('console.shop_iban_invalid') : undefined;
  return (
    <form class="form-grid" noValidate onSubmit={(event) => {
      event.preventDefault();
      if (name.trim() === '') {
        setNameError(t('console.shop_name_missing'));
        return;
      }
      setNameError(undefined);
      onSubmit({ name: name.trim(), iban: iban.trim(), address: address.trim(), contact: contact.trim() });
    }}>
      <Field label={t('console.shop_name')} error={nameError} required>
        {(attrs) => <input {...attrs} type="text" maxLength={200} value={name} data-testid="shop-name" onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <Field label={t('console.shop_iban')} hint={t('console.shop_iban_hint')} error={iban_error}>
        {(attrs) => <input {...attrs} type="text" class="mono" autoComplete="off" spellcheck={false} maxLength={50} value={iban} placeholder="BE68 5390 0754 7034" data-testid="shop-iban" onInput={(e) => setIban(e.currentTarget.value)} />}
      </Field>
      <Field label={t('console.shop_address')}>
        {(attrs) => <input {...attrs} type="text" maxLength={500} autoComplete="off" value={address} data-testid="shop-address" onInput={(e) => setAddress(e.currentTarget.value)} />}
      </Field>
      <Field label={t('console.shop_contact')} hint={t('console.shop_contact_hint')}>
        {(attrs) => <input {...attrs} type="text" maxLength={200} autoComplete="off" value={contact} data-testid="shop-contact" onInput={(e) => setContact(e.currentTarget.value)} />}
      </Field>
      {error !== undefined && <div class="form-wide"><ProblemAlert error={error} testid="shop-error" /></div>}
      <div class="form-wide button-row">
        <Btn type="submit" icon="check" disabled={busy} data-testid="shop-save">{submitLabel}</Btn>
      </div>
    </form>
  );
}

export function NewShop() {
  const cur = currency.value;
  const { busy, error, run } = useAction();
  const [created, setCreated] = useState<{ id: string; name: string; code: string; expires: string } | undefined>(undefined);

  const create = async (values: { name: string; iban: string; address: string; contact: string }) => {
    if (cur === undefined) return;
    await run(async () => {
      const shop = await consoleApi.post('/currencies/{code}/shops', {
        path: { code: cur.code },
        body: {
          name: values.name,
          ...(values.iban === '' ? {} : { iban: values.iban }),
          ...(values.address === '' ? {} : { address: values.address }),
          ...(values.contact === '' ? {} : { contact: values.contact }),
        },
      });
      setCreated({ id: shop.account.id, name: shop.name, code: shop.pairing_code, expires: shop.pairing_expires_at });
    });
  };

  return (
    <ConsolePage title={created === undefined ? t('console.shop_new') : t('console.shop_created', { name: created.name })} testid="console-new-shop"
      actions={<BtnLink href="/console/shops" variant="ghost" icon="back">{t('console.back_to_shops')}</BtnLink>}>
      {cur === undefined ? <p>{t('console.no_currency')}</p> : created === undefined ? (
        <>
          <p class="lead">{t('console.shop_new_intro')}</p>
          <ShopFields busy={busy} error={error} submitLabel={t('console.shop_create')} onSubmit={(values) => void create(values)} />
        </>
      ) : (
        <>
          <Alert kind="success" data-testid="shop-created">{t('console.shop_created_body')}</Alert>
          <PairingCode code={created.code} expires={created.expires} />
          <div class="button-row">
            <BtnLink href={`/console/shops/${created.id}`} icon="shop" data-testid="shop-created-open">{t('console.shop_open')}</BtnLink>
            <Btn variant="secondary" icon="plus" onClick={() => setCreated(undefined)}>{t('console.shop_new_another')}</Btn>
          </div>
        </>
      )}
    </ConsolePage>
  );
}

export function ShopDetail() {
  const { params } = useRoute();
  const id = params.id ?? '';
  const [shop, setShop] = useState<Shop | undefined>(undefined);
  const [devices, setDevices] = useState<Device[] | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [pairing, setPairing] = useState<{ code: string; expires: string } | undefined>(undefined);
  const [revoking, setRevoking] = useState<Device | undefined>(undefined);
  const [editing, setEditing] = useState(false);
  const pairingAction = useAction();
  const revokeAction = useAction();
  const saveAction = useAction();
  // One action at a time on a shop.
  const busy = pairingAction.busy || revokeAction.busy || saveAction.busy;

  const load = async () => {
    setError(undefined);
    try {
      const [s, d] = await Promise.all([
        consoleApi.get('/shops/{id}', { path: { id } }),
        consoleApi.get('/shops/{id}/devices', { path: { id } }),
      ]);
      setShop(s);
      setDevices(d.items);
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => { void load(); }, [id]);

  const newCode = () => pairingAction.run(async () => {
    const answer = await consoleApi.post('/shops/{id}/pairing-codes', { path: { id } });
    setPairing({ code: answer.pairing_code, expires: answer.expires_at });
  });

  const revoke = async () => {
    if (revoking === undefined) return;
    await revokeAction.run(async () => {
      await consoleApi.delete('/shops/{id}/devices/{device}', { path: { id, device: revoking.id } });
      setRevoking(undefined);
      await load();
    });
  };

  const save = (values: { name: string; iban: string; address: string; contact: string }) => saveAction.run(async () => {
    setShop(await consoleApi.patch('/shops/{id}', {
      path: { id },
      body: {
        name: values.name, iban: values.iban === '' ? null : values.iban,
        address: values.address === '' ? null : values.address, contact: values.contact === '' ? null : values.contact,
      },
    }));
    setEditing(false);
    return t('console.saved');
  });

  return (
    <ConsolePage title={shop?.name ?? t('console.shop_title')} testid="console-shop"
      actions={<BtnLink href="/console/shops" variant="ghost" icon="back">{t('console.back_to_shops')}</BtnLink>}>
      {error !== undefined && <ProblemAlert error={error} onRetry={() => void load()} />}
      {shop === undefined ? (error === undefined && <Loading />) : (
        <>
          {saveAction.done !== undefined && <Alert kind="success" data-testid="shop-saved">{saveAction.done}</Alert>}
          <div class="detail-grid">
            <Panel title={t('console.shop_details')} icon="shop" testid="shop-detail"
              actions={editing ? undefined : <Btn small variant="secondary" icon="edit" onClick={() => setEditing(true)} data-testid="shop-edit">{t('console.edit')}</Btn>}>
              {editing ? (
                <ShopFields initial={shop} busy={busy} error={saveAction.error} submitLabel={t('console.save')} onSubmit={(values) => void save(values)} />
              ) : (
                <dl class="facts">
                  <div><dt>{t('console.col_balance')}</dt><dd><Amount value={shop.account.balance} currency={shop.account.currency} testid="shop-detail-balance" /></dd></div>
                  <div><dt>{t('console.shop_available')}</dt><dd><Amount value={shop.account.available} currency={shop.account.currency} /></dd></div>
                  <div><dt>{t('console.shop_iban')}</dt><dd class="mono">{shop.iban ?? <span class="text-warn">{t('console.shop_no_iban')}</span>}</dd></div>
                  <div><dt>{t('console.shop_address')}</dt><dd>{shop.address ?? '—'}</dd></div>
                  <div><dt>{t('console.shop_contact')}</dt><dd>{shop.contact ?? '—'}</dd></div>
                  <div><dt>{t('console.col_status')}</dt><dd>{accountStatusTag(shop.account)}</dd></div>
                </dl>
              )}
            </Panel>
            <Panel title={t('console.devices_title')} icon="tablet" testid="devices">
              {pairing !== undefined && <PairingCode code={pairing.code} expires={pairing.expires} />}
              {pairingAction.error !== undefined && <ProblemAlert error={pairingAction.error} />}
              <Btn icon="key" onClick={() => void newCode()} disabled={busy} data-testid="new-pairing-code">{t('console.pairing_new')}</Btn>
              {devices === undefined || devices.length === 0 ? <p class="muted">{t('console.devices_none')}</p> : (
                <ul class="plain-list">
                  {devices.map((d) => (
                    <li key={d.id} data-testid="device-row" data-id={d.id}>
                      <span>
                        <strong>{d.name}</strong>
                        <span class="muted"> · {t('console.device_seen', { time: formatDate(d.last_seen_at, 'short') })}</span>
                      </span>
                      <Btn small variant="danger" icon="ban" data-testid="device-revoke" onClick={() => {
                        revokeAction.reset();
                        setRevoking(d);
                      }}>{t('console.device_revoke')}</Btn>
                    </li>
                  ))}
                </ul>
              )}
            </Panel>
          </div>
          <Panel title={t('console.statement')} icon="list">
            <Statement account={shop.account.id} currency={shop.account.currency} onChanged={() => void load()} />
          </Panel>
          <ConfirmDialog
            open={revoking !== undefined}
            title={t('console.device_revoke_title')}
            confirmLabel={t('console.device_revoke')}
            confirmIcon="ban"
            danger
            busy={busy}
            onCancel={() => setRevoking(undefined)}
            onConfirm={() => void revoke()}
            testid="revoke-dialog"
          >
            <p>{t('console.device_revoke_body', { name: revoking?.name ?? '' })}</p>
            {revokeAction.error !== undefined && <ProblemAlert error={revokeAction.error} />}
          </ConfirmDialog>
        </>
      )}
    </ConsolePage>
  );
}
