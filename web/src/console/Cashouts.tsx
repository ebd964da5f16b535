import { useEffect, useState } from 'preact/hooks';
import { consoleApi, fetchRaw } from '../api.js';
import { formatDate, locale, t } from '../i18n/index.js';
import { useAction } from '../lib/action.js';
import { fromMinor, toMinor } from '../lib/money.js';
import { Alert } from '../ui/Alert.js';
import { Loading } from '../ui/Layout.js';
import { ProblemAlert } from '../ui/problem.js';
import { ConsolePage } from './Shell.js';
import { Amount, Btn, ConfirmDialog, Panel, StatusTag, formatEuro } from './ui.js';
import { currency, isAdmin, saveDownload } from './state.js';
import type { Currency, Payout, PayoutExport, Redemption } from './state.js';

type Decision = { redemption: Redemption; action: 'approve' | 'reject' };

/** The files of an export: the SEPA file, the CSV, and the CSV for Excel (`;`, decimal comma, byte order mark). */
type ExportFile = 'xml' | 'csv' | 'excel';

/**
 * Downloads a file of an export. The CSVs are for people: their header row is in the console's
 * language (`lang`); the SEPA file is for the bank.
 */
async function download(code: string, export_id: string, file: ExportFile): Promise<string> {
  const base = `/currencies/${encodeURIComponent(code)}/payouts`;
  const query = `export=${encodeURIComponent(export_id)}`;
  const path = file === 'xml' ? `${base}.xml?${query}` : `${base}.csv?${query}&format=${file}&lang=${locale.value}`;
  const response = await fetchRaw('console', path);
  return saveDownload(response, `payouts-${code}-${export_id}${file === 'excel' ? '-excel.csv' : `.${file}`}`);
}

function DownloadButtons({ code, export_id, onError }: { code: string; export_id: string; onError: (error: unknown) => void }) {
  const [busy, setBusy] = useState(false);
  const get = (file: ExportFile) => {
    setBusy(true);
    download(code, export_id, file).catch(onError).finally(() => setBusy(false));
  };
  return (
    <span class="button-row">
      <Btn small variant="secondary" icon="download" disabled={busy} onClick={() => get('xml')} data-testid="download-xml">{t('console.download_xml')}</Btn>
      <Btn small variant="secondary" icon="download" disabled={busy} onClick={() => get('csv')} data-testid="download-csv">{t('console.download_csv')}</Btn>
      <Btn small variant="secondary" icon="download" disabled={busy} onClick={() => get('excel')} data-testid="download-excel" title={t('console.download_excel_hint')}>{t('console.download_excel')}</Btn>
    </span>
  );
}

function CashoutScreens({ cur }: { cur: Currency }) {
  const [redemptions, setRedemptions] = useState<Redemption[] | undefined>(undefined);
  const [payouts, setPayouts] = useState<Payout[] | undefined>(undefined);
  const [shopNames, setShopNames] = useState<Map<string, string>>(new Map());
  const [error, setError] = useState<unknown>(undefined);
  const [deciding, setDeciding] = useState<Decision | undefined>(undefined);
  const decision = useAction();
  const exporting = useAction();
  // One action at a time: deciding and exporting both change the list of payouts.
  const busy = decision.busy || exporting.busy;
  const [message, setMessage] = useState<string | undefined>(undefined);
  const [exported, setExported] = useState<PayoutExport | undefined>(undefined);
  const [downloadError, setDownloadError] = useState<unknown>(undefined);

  const load = async () => {
    setError(undefined);
    try {
      const [r, p, s] = await Promise.all([
        consoleApi.get('/currencies/{code}/redemptions', { path: { code: cur.code } }),
        consoleApi.get('/currencies/{code}/payouts', { path: { code: cur.code } }),
        consoleApi.get('/currencies/{code}/shops', { path: { code: cur.code } }),
      ]);
      setRedemptions(r.items);
      setPayouts(p.items.filter((x): x is Payout => x !== null));
      setShopNames(new Map(s.items.map((shop) => [shop.account.id, shop.name])));
    } catch (caught) {
      setError(caught);
    }
  };
  useEffect(() => { void load(); }, [cur.code]);

  const decide = async () => {
    if (deciding === undefined) return;
    await decision.run(async () => {
      const path = deciding.action === 'approve' ? '/redemptions/{id}/approve' : '/redemptions/{id}/reject';
      const answer = await consoleApi.post(path, { path: { id: deciding.redemption.id } });
      const shop = shopNames.get(deciding.redemption.shop) ?? '';
      setMessage(deciding.action === 'approve'
        ? t('console.redemption_approved', { shop, euros: formatEuro(answer.payout?.euro_amount ?? deciding.redemption.euro_amount) })
        : t('console.redemption_rejected', { shop }));
      setDeciding(undefined);
      await load();
    });
  };

  const makeExport = () => exporting.run(async () => {
    setExported(await consoleApi.post('/currencies/{code}/payout-exports', { path: { code: cur.code } }));
    await load();
  });

  const pending = redemptions?.filter((r) => r.status === 'pending') ?? [];
  const decided = redemptions?.filter((r) => r.status !== 'pending').slice(0, 20) ?? [];
  const unexported = payouts?.filter((p) => p.export_id === null) ?? [];
  const exports = new Map<string, Payout[]>();
  for (const p of payouts ?? []) {
    if (p.export_id !== null) exports.set(p.export_id, [...(exports.get(p.export_id) ?? []), p]);
  }
  const total = (list: Payout[]) => fromMinor(list.reduce((sum, p) => sum + toMinor(p.euro_amount, 2), 0n), 2);

  if (error !== undefined && redemptions === undefined) return <ProblemAlert error={error} onRetry={() => void load()} />;
  if (redemptions === undefined || payouts === undefined) return <Loading />;

  return (
    <>
      {message !== undefined && <Alert kind="success" data-testid="redemption-done">{message}</Alert>}
      <Panel title={t('console.redemptions_pending', { count: pending.length })} icon="clock" testid="redemptions">
        {pending.length === 0 ? <p class="muted" data-testid="redemptions-none">{t('console.redemptions_none')}</p> : (
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t('console.col_shop')}</th>
                  <th scope="col" class="num">{t('console.col_amount')}</th>
                  <th scope="col" class="num">{t('console.col_euros')}</th>
                  <th scope="col">{t('console.col_requested')}</th>
                  <th scope="col"><span class="sr-only">{t('console.col_actions')}</span></th>
                </tr>
              </thead>
              <tbody>
                {pending.map((r) => (
                  <tr key={r.id} data-testid="redemption-row" data-id={r.id} data-status={r.status}>
                    <td><a href={`/console/shops/${r.shop}`}>{shopNames.get(r.shop) ?? r.shop}</a></td>
                    <td class="num"><Amount value={r.amount} currency={cur.code} /></td>
                    <td class="num" data-euros={r.euro_amount}>{formatEuro(r.euro_amount)}</td>
                    <td>{formatDate(r.created_at, 'short')}</td>
                    <td class="row-actions">
                      <div class="row-buttons">
                        <Btn small icon="check" data-testid="redemption-approve" onClick={() => {
                          decision.reset();
                          setDeciding({ redemption: r, action: 'approve' });
                        }}>{t('console.approve')}</Btn>
                        <Btn small variant="danger" icon="x" data-testid="redemption-reject" onClick={() => {
                          decision.reset();
                          setDeciding({ redemption: r, action: 'reject' });
                        }}>{t('console.reject')}</Btn>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Panel>

      <Panel title={t('console.payouts_title')} icon="bank" testid="payouts"
        actions={<Btn icon="download" disabled={busy || unexported.length === 0} onClick={() => void makeExport()} data-testid="payout-export">{t('console.payout_export', { count: unexported.length })}</Btn>}>
        <p class="hint">{t('console.payouts_intro')}</p>
        {exporting.error !== undefined && (
          <ProblemAlert error={exporting.error} testid="export-error" overrides={{
            payer_missing: isAdmin.value ? t('console.payer_missing_admin') : t('console.payer_missing'),
            nothing_to_export: t('console.nothing_to_export'),
          }} />
        )}
        {downloadError !== undefined && <ProblemAlert error={downloadError} testid="download-error" />}
        {exported !== undefined && (
          <Alert kind="success" title={t('console.export_done', { count: exported.payouts_count, euros: formatEuro(exported.total_euros) })} data-testid="export-result">
            <p>{t('console.export_done_body', { id: exported.message_id })}</p>
            <DownloadButtons code={cur.code} export_id={exported.id} onError={setDownloadError} />
          </Alert>
        )}
        {unexported.length > 0 && (
          <>
            <h3>{t('console.payouts_waiting', { count: unexported.length, euros: formatEuro(total(unexported)) })}</h3>
            <div class="table-wrap">
              <table class="table">
                <thead>
                  <tr>
                    <th scope="col">{t('console.col_shop')}</th>
                    <th scope="col">{t('console.shop_iban')}</th>
                    <th scope="col" class="num">{t('console.col_euros')}</th>
                    <th scope="col">{t('console.col_reference')}</th>
                  </tr>
                </thead>
                <tbody>
                  {unexported.map((p) => (
                    <tr key={p.id} data-testid="payout-row" data-id={p.id} data-exported="false">
                      <td>{p.shop.name}</td>
                      <td class="mono">{p.iban ?? '—'}</td>
                      <td class="num">{formatEuro(p.euro_amount)}</td>
                      <td class="mono">{p.reference}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
        <h3>{t('console.exports_title')}</h3>
        {exports.size === 0 ? <p class="muted">{t('console.exports_none')}</p> : (
          <ul class="plain-list" data-testid="export-list">
            {[...exports.entries()].map(([id, list]) => (
              <li key={id} data-testid="export-row" data-id={id}>
                <span>
                  <strong>{list[0]?.exported_at === null || list[0] === undefined ? '' : formatDate(list[0].exported_at, 'datetime')}</strong>
                  {' · '}{t('console.export_summary', { count: list.length, euros: formatEuro(total(list)) })}
                </span>
                <DownloadButtons code={cur.code} export_id={id} onError={setDownloadError} />
              </li>
            ))}
          </ul>
        )}
      </Panel>

      {decided.length > 0 && (
        <Panel title={t('console.redemptions_decided')} icon="list">
          <div class="table-wrap">
            <table class="table">
              <thead>
                <tr>
                  <th scope="col">{t('console.col_shop')}</th>
                  <th scope="col" class="num">{t('console.col_amount')}</th>
                  <th scope="col" class="num">{t('console.col_euros')}</th>
                  <th scope="col">{t('console.col_status')}</th>
                  <th scope="col">{t('console.col_decided')}</th>
                </tr>
              </thead>
              <tbody>
                {decided.map((r) => (
                  <tr key={r.id} data-testid="redemption-row" data-id={r.id} data-status={r.status}>
                    <td>{shopNames.get(r.shop) ?? r.shop}</td>
                    <td class="num"><Amount value={r.amount} currency={cur.code} /></td>
                    <td class="num">{formatEuro(r.euro_amount)}</td>
                    <td>{r.status === 'approved' ? <StatusTag kind="ok">{t('console.status_approved')}</StatusTag> : <StatusTag kind="bad">{t('console.status_rejected')}</StatusTag>}</td>
                    <td>{r.decided_at === null ? '—' : formatDate(r.decided_at, 'short')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Panel>
      )}

      <ConfirmDialog
        open={deciding !== undefined}
        title={deciding?.action === 'reject' ? t('console.reject_title') : t('console.approve_title')}
        confirmLabel={deciding?.action === 'reject' ? t('console.reject') : t('console.approve')}
        confirmIcon={deciding?.action === 'reject' ? 'x' : 'check'}
        danger={deciding?.action === 'reject'}
        busy={busy}
        onCancel={() => setDeciding(undefined)}
        onConfirm={() => void decide()}
        testid="redemption-dialog"
      >
        {deciding !== undefined && (
          <p>
            {t(deciding.action === 'approve' ? 'console.approve_body' : 'console.reject_body', {
              shop: shopNames.get(deciding.redemption.shop) ?? '',
              euros: formatEuro(deciding.redemption.euro_amount),
            })}
          </p>
        )}
        {decision.error !== undefined && (
          <ProblemAlert error={decision.error} testid="redemption-error" overrides={{ iban_missing: t('console.iban_missing') }} />
        )}
      </ConfirmDialog>
    </>
  );
}

export function Cashouts() {
  const cur = currency.value;
  return (
    <ConsolePage title={t('console.cashouts_title')} testid="console-cashouts">
      <p class="lead">{t('console.cashouts_intro')}</p>
      {cur === undefined ? <p>{t('console.no_currency')}</p> : <CashoutScreens cur={cur} />}
    </ConsolePage>
  );
}
