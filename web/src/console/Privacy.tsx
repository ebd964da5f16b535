import { useState } from 'preact/hooks';
import { consoleApi, fetchRaw } from '../api.js';
import { formatAmount, t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { ProblemAlert } from '../ui/problem.js';
import { Btn, ConfirmDialog, Field, Panel } from './ui.js';
import { currency, fieldError, saveDownload } from './state.js';
import type { Account, WalletDetail as Wallet } from './state.js';

/**
 * A person's data on request (docs/privacy-requests.md), on a volunteer's page: everything stored
 * about them as a printable page in their language or as a JSON file, or their personal data erased — with a
 * reason that names nobody and, when coins are left, the programme that receives them.
 */
export function PersonData({ wallet, openPrintable, onErased }: {
  wallet: Wallet;
  openPrintable: (path: string) => Promise<void>;
  onErased: (pseudonym: string) => void;
}) {
  const [asking, setAsking] = useState(false);
  const [reason, setReason] = useState('');
  const [programme, setProgramme] = useState('');
  const [programmes, setProgrammes] = useState<Account[]>([]);
  const [missing, setMissing] = useState<{ reason?: string; programme?: string }>({});
  const [printError, setPrintError] = useState<unknown>(undefined);
  const { busy, error, run, reset } = useAction();
  const left = wallet.account.balance !== formatZero(wallet.account.balance);
  const erased = wallet.erased_at !== null;

  const ask = async () => {
    reset();
    setReason('');
    setMissing({});
    setAsking(true);
    const code = currency.value?.code;
    if (left && code !== undefined) {
      const found = (await consoleApi.get('/currencies/{code}/accounts', { path: { code }, query: { kind: 'programme', limit: 200 } })).items;
      setProgrammes(found);
      setProgramme(found[0]?.id ?? '');
    }
  };

  const erase = async () => {
    const found: typeof missing = {};
    if (reason.trim() === '') found.reason = t('console.erase_reason_missing');
    if (left && programme === '') found.programme = t('console.erase_rest_missing');
    setMissing(found);
    if (Object.keys(found).length > 0) return;
    await run(async () => {
      const done = await consoleApi.post('/wallets/{id}/erase', {
        path: { id: wallet.account.id }, body: { reason: reason.trim(), ...(left ? { move_rest_to_programme: programme } : {}) },
      });
      setAsking(false);
      onErased(done.display_name);
    });
  };

  return (
    <Panel title={t('console.privacy_title')} icon="info" testid="person-data">
      <p>{t('console.privacy_intro')}</p>
      <div class="button-row">
        <Btn icon="print" variant="secondary" data-testid="export-person" onClick={() => {
          setPrintError(undefined);
          openPrintable(`/wallets/${encodeURIComponent(wallet.account.id)}/export?format=html`).catch(setPrintError);
        }}>{t('console.privacy_export')}</Btn>
        <Btn icon="download" variant="secondary" data-testid="export-person-json" onClick={() => {
          setPrintError(undefined);
          fetchRaw('console', `/wallets/${encodeURIComponent(wallet.account.id)}/export`)
            .then((response) => saveDownload(response, `wijkmunt-${wallet.account.id}.json`)).catch(setPrintError);
        }}>{t('console.privacy_export_json')}</Btn>
        {!erased && <Btn icon="ban" variant="danger" data-testid="erase-person" onClick={() => void ask()}>{t('console.privacy_erase')}</Btn>}
      </div>
      {printError !== undefined && <ProblemAlert error={printError} testid="export-error" />}
      <ConfirmDialog open={asking} title={t('console.erase_title', { name: wallet.display_name })} confirmLabel={t('console.erase_confirm')}
        confirmIcon="ban" danger busy={busy} onCancel={() => setAsking(false)} onConfirm={() => void erase()} testid="erase-dialog">
        <p>{t('console.erase_body')}</p>
        <Field label={t('console.erase_reason')} hint={t('console.erase_reason_hint')} required
          error={missing.reason ?? (fieldError(error, 'reason') === undefined ? undefined : t('console.erase_reason_names'))}>
          {(attrs) => <textarea {...attrs} maxLength={500} rows={3} value={reason} data-testid="erase-reason" onInput={(e) => setReason(e.currentTarget.value)} />}
        </Field>
        {left && (
          <Field label={t('console.erase_rest', { amount: formatAmount(wallet.account.balance, wallet.account.currency) })} required error={missing.programme}>
            {(attrs) => (
              <select {...attrs} value={programme} data-testid="erase-programme" onChange={(e) => setProgramme(e.currentTarget.value)}>
                {programmes.map((p) => <option key={p.id} value={p.id}>{p.name}</option>)}
              </select>
            )}
          </Field>
        )}
        {error !== undefined && fieldError(error, 'reason') === undefined && <ProblemAlert error={error} testid="erase-error" />}
      </ConfirmDialog>
    </Panel>
  );
}

/** "0", "0.00": the balance of an empty account in its currency's scale. */
function formatZero(balance: string): string {
  const decimals = balance.split('.')[1]?.length ?? 0;
  return decimals === 0 ? '0' : `0.${'0'.repeat(decimals)}`;
}
