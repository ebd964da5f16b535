/**
 * A person's export as a printable page in their language (GET /wallets/{id}/export?format=html):
 * the same object as the JSON (person-export.ts), laid out for A4. Every word comes from the
 * dictionary below (Dutch first, then English and French, the same keys in each); dates and
 * amounts are written as the language writes them ("3 maart 2026", "12,50").
 */
import type { PersonExportJson } from './person-export.js';

type Words = {
  title: string; intro: string; erased: string; generated: string;
  profile: string; account: string; cards: string; sessions: string; transfers: string; entries: string;
  claims: string; earnings: string; audit: string; audit_note: string; none: string; another_volunteer: string;
  display_name: string; full_name: string; phone: string; email: string; note: string; language: string;
  created_at: string; updated_at: string; erased_at: string; balance: string; status: string;
  card: string; pin_failures: string; opened: string; expires: string; ended: string;
  date: string; what: string; with: string; amount: string; memo: string; balance_after: string;
  activity: string; hours: string; via: string; period: string; action: string; object: string; address: string; changes: string;
  codes: Record<string, string>; statuses: Record<string, string>; vias: Record<string, string>;
};

const words: Record<'nl' | 'en' | 'fr', Words> = {
  nl: {
    title: 'Mijn gegevens bij {currency}', intro: 'Dit zijn alle gegevens die {currency} over jou bewaart.',
    erased: 'De persoonsgegevens van deze portemonnee zijn gewist op {date}.', generated: 'Opgemaakt op {date}.',
    profile: 'Profiel', account: 'Rekening', cards: 'Kaarten', sessions: 'Aanmeldingen', transfers: 'Verrichtingen', entries: 'Saldo na elke verrichting',
    claims: 'Vrijwilligerswerk', earnings: 'Verdiend per dag en per jaar', audit: 'Logboek', audit_note: 'Wat er met je portemonnee en je kaarten gebeurde (technische namen).',
    none: '—', another_volunteer: 'een andere vrijwilliger',
    display_name: 'Naam', full_name: 'Volledige naam', phone: 'Telefoon', email: 'E-mail', note: 'Notitie', language: 'Taal',
    created_at: 'Aangemaakt', updated_at: 'Gewijzigd', erased_at: 'Gewist', balance: 'Saldo', status: 'Status',
    card: 'Kaart', pin_failures: 'Foute pincodes', opened: 'Geopend', expires: 'Verloopt', ended: 'Beëindigd',
    date: 'Datum', what: 'Wat', with: 'Met', amount: 'Bedrag', memo: 'Omschrijving', balance_after: 'Saldo na',
    activity: 'Activiteit', hours: 'Uren', via: 'Hoe', period: 'Periode', action: 'Actie', object: 'Over', address: 'Adres', changes: 'Gegevens',
    codes: { budget: 'Budget', issue: 'Uitgifte', reward: 'Beloning', payment: 'Betaling', refund: 'Terugbetaling', redemption: 'Inwisseling', reversal: 'Correctie', adjustment: 'Aanpassing', expiry: 'Vervallen' },
    statuses: { active: 'actief', frozen: 'bevroren', closed: 'afgesloten', blocked: 'geblokkeerd', replaced: 'vervangen', posted: 'geboekt', pending: 'gereserveerd', voided: 'geannuleerd' },
    vias: { qr: 'QR-code', card: 'kaart' },
  },
  en: {
    title: 'My data at {currency}', intro: 'This is all the data {currency} keeps about you.',
    erased: 'The personal data of this wallet was erased on {date}.', generated: 'Made on {date}.',
    profile: 'Profile', account: 'Account', cards: 'Cards', sessions: 'Sign-ins', transfers: 'Transactions', entries: 'Balance after each transaction',
    claims: 'Volunteering', earnings: 'Earned per day and per year', audit: 'Log', audit_note: 'What happened to your wallet and your cards (technical names).',
    none: '—', another_volunteer: 'another volunteer',
    display_name: 'Name', full_name: 'Full name', phone: 'Phone', email: 'Email', note: 'Note', language: 'Language',
    created_at: 'Created', updated_at: 'Changed', erased_at: 'Erased', balance: 'Balance', status: 'Status',
    card: 'Card', pin_failures: 'Wrong PINs', opened: 'Opened', expires: 'Expires', ended: 'Ended',
    date: 'Date', what: 'What', with: 'With', amount: 'Amount', memo: 'Description', balance_after: 'Balance after',
    activity: 'Activity', hours: 'Hours', via: 'How', period: 'Period', action: 'Action', object: 'About', address: 'Address', changes: 'Details',
    codes: { budget: 'Budget', issue: 'Issue', reward: 'Reward', payment: 'Payment', refund: 'Refund', redemption: 'Cash-out', reversal: 'Correction', adjustment: 'Adjustment', expiry: 'Expired' },
    statuses: { active: 'active', frozen: 'frozen', closed: 'closed', blocked: 'blocked', replaced: 'replaced', posted: 'posted', pending: 'reserved', voided: 'cancelled' },
    vias: { qr: 'QR code', card: 'card' },
  },
  fr: {
    title: 'Mes données chez {currency}', intro: 'Voici toutes les données que {currency} conserve à votre sujet.',
    erased: 'Les données personnelles de ce portefeuille ont été effacées le {date}.', generated: 'Établi le {date}.',
    profile: 'Profil', account: 'Compte', cards: 'Cartes', sessions: 'Connexions', transfers: 'Opérations', entries: 'Solde après chaque opération',
    claims: 'Bénévolat', earnings: 'Gagné par jour et par an', audit: 'Journal', audit_note: 'Ce qui est arrivé à votre portefeuille et à vos cartes (noms techniques).',
    none: '—', another_volunteer: 'un autre bénévole',
    display_name: 'Nom', full_name: 'Nom complet', phone: 'Téléphone', email: 'E-mail', note: 'Note', language: 'Langue',
    created_at: 'Créé', updated_at: 'Modifié', erased_at: 'Effacé', balance: 'Solde', status: 'Statut',
    card: 'Carte', pin_failures: 'Codes PIN erronés', opened: 'Ouverte', expires: 'Expire', ended: 'Terminée',
    date: 'Date', what: 'Quoi', with: 'Avec', amount: 'Montant', memo: 'Description', balance_after: 'Solde après',
    activity: 'Activité', hours: 'Heures', via: 'Comment', period: 'Période', action: 'Action', object: 'Objet', address: 'Adresse', changes: 'Détails',
    codes: { budget: 'Budget', issue: 'Émission', reward: 'Récompense', payment: 'Paiement', refund: 'Remboursement', redemption: 'Encaissement', reversal: 'Correction', adjustment: 'Ajustement', expiry: 'Expiré' },
    statuses: { active: 'actif', frozen: 'gelé', closed: 'clôturé', blocked: 'bloquée', replaced: 'remplacée', posted: 'comptabilisé', pending: 'réservé', voided: 'annulé' },
    vias: { qr: 'code QR', card: 'carte' },
  },
};

const locales = { nl: 'nl-BE', en: 'en-GB', fr: 'fr-BE' } as const;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** How a language writes dates and amounts (amounts stay decimal strings: only the separator changes). */
function writerOf(language: keyof typeof words) {
  const date = new Intl.DateTimeFormat(locales[language], { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/Brussels' });
  const time = new Intl.DateTimeFormat(locales[language], { day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Brussels' });
  return {
    day: (iso: string | null) => (iso === null ? words[language].none : date.format(new Date(iso))),
    when: (iso: string | null) => (iso === null ? words[language].none : time.format(new Date(iso))),
    amount: (decimal: string) => (language === 'en' ? decimal : decimal.replace('.', ',')),
  };
}

function table(headers: string[], rows: string[][], none: string): string {
  if (rows.length === 0) return `<p class="none">${escapeHtml(none)}</p>`;
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function fields(pairs: Array<[string, string | null]>, none: string): string {
  return `<dl>${pairs.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v ?? none)}</dd>`).join('')}</dl>`;
}

function sections(x: PersonExportJson, w: Words, write: ReturnType<typeof writerOf>): string[] {
  const status = (s: string) => w.statuses[s] ?? s;
  const p = x.person;
  return [
    `<h2>${escapeHtml(w.profile)}</h2>`, fields([[w.display_name, p.display_name], [w.full_name, p.full_name], [w.phone, p.phone], [w.email, p.email], [w.note, p.note],
      [w.language, p.language], [w.created_at, write.day(p.created_at)], [w.updated_at, write.day(p.updated_at)], [w.erased_at, write.day(p.erased_at)]], w.none),
    `<h2>${escapeHtml(w.account)}</h2>`, fields([[w.balance, `${write.amount(x.account.balance)} ${x.currency.name}`], [w.status, status(x.account.status)]], w.none),
    `<h2>${escapeHtml(w.cards)}</h2>`, table([w.card, w.status, w.pin_failures, w.created_at], x.cards.map((c) => [c.code, status(c.status), String(c.pin_failures), write.day(c.created_at)]), w.none),
    `<h2>${escapeHtml(w.sessions)}</h2>`, table([w.card, w.opened, w.expires, w.ended], x.sessions.map((s) => [s.card, write.when(s.created_at), write.when(s.expires_at), write.when(s.revoked_at)]), w.none),
    `<h2>${escapeHtml(w.transfers)}</h2>`, table([w.date, w.what, w.with, w.amount, w.memo, w.status], x.transfers.map((t) => [
      write.when(t.created_at), w.codes[t.code] ?? t.code, t.counterparty.name ?? w.another_volunteer,
      `${t.direction === 'out' ? '-' : '+'}${write.amount(t.amount)}`, t.memo ?? '', status(t.status)]), w.none),
    `<h2>${escapeHtml(w.entries)}</h2>`, table([w.date, w.amount, w.balance_after], x.entries.map((e) => [write.when(e.created_at), write.amount(e.amount), write.amount(e.balance_after)]), w.none),
    `<h2>${escapeHtml(w.claims)}</h2>`, table([w.date, w.activity, w.hours, w.via], x.claims.map((c) => [
      write.when(c.created_at), c.activity.name[x.person.language] ?? c.activity.name.nl ?? '', c.hours === null ? w.none : write.amount(c.hours), w.vias[c.via] ?? c.via]), w.none),
    `<h2>${escapeHtml(w.earnings)}</h2>`, table([w.period, w.amount], x.earnings.map((e) => [e.period.slice(1), write.amount(e.amount)]), w.none),
    `<h2>${escapeHtml(w.audit)}</h2><p>${escapeHtml(w.audit_note)}</p>`, table([w.date, w.action, w.object, w.address, w.changes], x.audit.map((a) => [
      write.when(a.at), a.action, [a.object.kind, a.object.id].filter((v) => v !== null).join(' '), a.ip ?? w.none, JSON.stringify(a.changes)]), w.none),
  ];
}

/** The printable page of an export, in the person's language (Dutch when it is none of nl, en, fr). */
export function renderPersonPage(x: PersonExportJson): string {
  const language = x.person.language === 'en' || x.person.language === 'fr' ? x.person.language : 'nl';
  const w = words[language];
  const write = writerOf(language);
  const fill = (text: string, values: Record<string, string>) => text.replace(/\{(\w+)\}/g, (_, k: string) => values[k] ?? '');
  const erased = x.person.erased_at === null ? '' : `<p class="erased">${escapeHtml(fill(w.erased, { date: write.day(x.person.erased_at) }))}</p>`;
  return `<!doctype html>
<html lang="${locales[language]}">
<head>
<meta charset="utf-8">
<title>${escapeHtml(fill(w.title, { currency: x.currency.name }))}</title>
<style>
  @page { size: A4; margin: 15mm; }
  body { font-family: system-ui, sans-serif; font-size: 10pt; line-height: 1.35; margin: 0 auto; max-width: 180mm; }
  h1 { font-size: 16pt; } h2 { font-size: 12pt; margin-top: 6mm; break-after: avoid; }
  table { border-collapse: collapse; width: 100%; } th, td { text-align: left; vertical-align: top; padding: 1mm 2mm; border-bottom: 0.2mm solid #bbb; }
  td { overflow-wrap: anywhere; } tr { break-inside: avoid; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 1mm 4mm; } dt { font-weight: bold; } dd { margin: 0; }
  .erased { font-weight: bold; }
</style>
</head>
<body>
<h1>${escapeHtml(fill(w.title, { currency: x.currency.name }))}</h1>
<p>${escapeHtml(fill(w.intro, { currency: x.currency.name }))} ${escapeHtml(fill(w.generated, { date: write.when(x.generated_at) }))}</p>
${erased}
${sections(x, w, write).join('\n')}
</body>
</html>`;
}
