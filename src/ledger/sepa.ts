import { Decimal } from 'decimal.js';
import { isValidIban, normalizeIban } from './iban.js';

/**
 * SEPA credit transfer files (ISO 20022 pain.001): pain.001.001.09 as the EPC's customer-to-PSP
 * implementation guidelines describe it (EPC132-08, 2023), and pain.001.001.03 (2009) for a bank
 * that does not take the current version yet. Pure: the caller supplies the clock and all data.
 */

/** The pain.001 versions written: '09' is pain.001.001.09, '03' is pain.001.001.03. */
export const sepa_versions = ['09', '03'] as const;
export type SepaVersion = (typeof sepa_versions)[number];

/** One credit transfer to one creditor. */
export interface SepaPayment {
  /** Identifier the creditor sees on the statement; at most 35 characters of the SEPA set. */
  end_to_end_id: string;
  /** Euros with exactly two decimals ("123.40"), greater than zero. */
  amount_eur: string;
  /** Free text; transliterated and cut to 70 characters. */
  creditor_name: string;
  /** Any accepted IBAN spelling; normalised before writing. */
  creditor_iban: string;
  /** Unstructured remittance text; transliterated and cut to 140 characters. */
  remittance: string;
}

/** One file with one batch (PmtInf) debiting one account. */
export interface SepaFile {
  /** The pain.001 version to write. */
  version: SepaVersion;
  /** Unique per file for the bank's duplicate check; at most 35 characters of the SEPA set. */
  message_id: string;
  /** Written as local time without milliseconds. */
  created_at: Date;
  /** Requested execution date, YYYY-MM-DD. */
  execution_date: string;
  initiator_name: string;
  debtor_name: string;
  debtor_iban: string;
  /** BIC of the debtor's bank; without it the file says NOTPROVIDED and the bank derives it. */
  debtor_bic?: string;
  /** At most 35 characters of the SEPA set. */
  payment_info_id: string;
  payments: SepaPayment[];
}

/** Characters the EPC allows in SEPA messages (the "Latin character set"). */
const sepa_char = /^[A-Za-z0-9/\-?:().,'+ ]$/;

/** Stand-ins for characters that do not decompose into the SEPA set. */
const replacements: Readonly<Record<string, string>> = {
  '&': '+',
  ß: 'ss',
  ẞ: 'SS',
  æ: 'ae',
  Æ: 'AE',
  œ: 'oe',
  Œ: 'OE',
  ø: 'o',
  Ø: 'O',
  ł: 'l',
  Ł: 'L',
  đ: 'd',
  Đ: 'D',
  ð: 'd',
  Ð: 'D',
  þ: 'th',
  Þ: 'TH',
  ı: 'i',
  ħ: 'h',
  Ħ: 'H',
  '€': 'EUR',
  '"': "'",
  '‘': "'",
  '’': "'",
  '‚': "'",
  '`': "'",
  '´': "'",
  '“': "'",
  '”': "'",
  '„': "'",
  '«': "'",
  '»': "'",
  '–': '-',
  '—': '-',
  '‐': '-',
  '‑': '-',
  _: '-',
  ';': ',',
  '[': '(',
  ']': ')',
  '{': '(',
  '}': ')',
  '<': '(',
  '>': ')',
  '\\': '/',
  '|': '/',
};

/**
 * Maps free text into the SEPA character set (a-z A-Z 0-9 / - ? : ( ) . , ' + space) so no
 * bank rejects or silently mangles it: accents are dropped ("Café Ça" → "Cafe Ca"), a few
 * characters get a close equivalent ("&" → "+", "ø" → "o", "ß" → "ss"), everything else
 * (emoji, other scripts, control characters) becomes a space. Runs of spaces collapse, the
 * ends are trimmed and the result is cut to `max_length` characters.
 *
 * The result contains none of the XML special characters except the apostrophe, which is
 * legal as it is in element text, so it can be written into an XML element unchanged.
 * It may be empty when nothing of the input survives.
 */
export function sepaText(input: string, max_length: number): string {
  if (!Number.isInteger(max_length) || max_length < 0) {
    throw new Error(`sepaText: max_length must be a non-negative integer, got ${max_length}`);
  }
  // NFKD rather than NFD: it also unfolds compatibility forms (ligatures "ﬁ", full-width
  // letters, superscripts) into plain letters and digits instead of losing them.
  const decomposed = input.normalize('NFKD').replace(/\p{M}+/gu, '');
  let mapped = '';
  // for..of walks code points, so an emoji (a surrogate pair) becomes one space, not two.
  for (const char of decomposed) {
    if (sepa_char.test(char)) mapped += char;
    else mapped += Object.hasOwn(replacements, char) ? replacements[char] : ' ';
  }
  // Cutting can leave a trailing space, hence the second trim.
  return mapped.replace(/ {2,}/g, ' ').trim().slice(0, max_length).trim();
}

/**
 * Escapes element text. sepaText output and checked ids never contain these characters, but
 * the writer should not depend on every caller getting that right.
 */
function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const amount_pattern = /^\d+\.\d{2}$/;
/** EPC rulebook AT-04: a single SCT is at most 999 999 999.99 euro. */
export const amount_max = new Decimal('999999999.99');
/** Ids are 1 to 35 characters of the SEPA set; assertId adds the slash rules. */
const id_pattern = /^[A-Za-z0-9/\-?:().,'+ ]{1,35}$/;
const date_pattern = /^(\d{4})-(\d{2})-(\d{2})$/;
/**
 * BICIdentifier pattern of the pain.001.001.03 XSD. It is narrower than the BICFI pattern of
 * pain.001.001.09 ([A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?), so a BIC it accepts is valid in
 * both versions and a currency can switch version without touching its BIC.
 */
export const bic_pattern = /^[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?$/;

/**
 * Throws unless `id` is 1 to 35 SEPA characters without edge spaces; the EPC guidelines also
 * forbid a leading or trailing "/" and "//" anywhere in references.
 */
function assertId(id: string, field: string): void {
  if (
    !id_pattern.test(id) ||
    id !== id.trim() ||
    id.startsWith('/') ||
    id.endsWith('/') ||
    id.includes('//')
  ) {
    throw new Error(`SEPA ${field} must be 1 to 35 characters of the SEPA set, without edge spaces, edge "/" or "//": ${JSON.stringify(id)}`);
  }
}

/** Throws unless `amount` has exactly two decimals and lies in (0, 999999999.99]. */
function assertAmount(amount: string, field: string): Decimal {
  if (!amount_pattern.test(amount)) {
    throw new Error(`SEPA ${field} must be a decimal string with exactly 2 decimals: ${JSON.stringify(amount)}`);
  }
  const value = new Decimal(amount);
  if (value.lte(0) || value.gt(amount_max)) {
    throw new Error(`SEPA ${field} must be greater than 0.00 and at most ${amount_max.toFixed(2)}: ${amount}`);
  }
  return value;
}

/** Throws unless `iban` is a valid SEPA IBAN; returns it normalised. */
function assertIban(iban: string, field: string): string {
  if (!isValidIban(iban)) throw new Error(`SEPA ${field} is not a valid SEPA IBAN: ${JSON.stringify(iban)}`);
  return normalizeIban(iban);
}

/** Transliterates and cuts free text; throws when nothing is left of a mandatory field. */
function requiredText(input: string, max_length: number, field: string): string {
  const text = sepaText(input, max_length);
  if (text === '') throw new Error(`SEPA ${field} is empty after mapping to the SEPA character set: ${JSON.stringify(input)}`);
  return text;
}

/** Throws unless `date` is a real calendar date written YYYY-MM-DD. */
function assertDate(date: string, field: string): void {
  const match = date_pattern.exec(date);
  const [year, month, day] = match === null ? [] : match.slice(1).map(Number);
  const parsed = year === undefined || month === undefined || day === undefined ? null : new Date(Date.UTC(year, month - 1, day));
  // Round-tripping through Date rejects 2026-02-30 and the like.
  if (parsed === null || parsed.toISOString().slice(0, 10) !== date) {
    throw new Error(`SEPA ${field} must be a calendar date YYYY-MM-DD: ${JSON.stringify(date)}`);
  }
}

/** ISO date-time in local time, seconds precision, no zone ("2026-11-26T12:00:00"). */
function localDateTime(date: Date): string {
  // xs:dateTime needs a four-digit year here; anything else is a broken clock, not a date.
  if (Number.isNaN(date.getTime()) || date.getFullYear() < 1 || date.getFullYear() > 9999) {
    throw new Error(`SEPA created_at is not a usable Date: ${String(date)}`);
  }
  const pad = (value: number, width = 2): string => String(value).padStart(width, '0');
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** An element with text, or with child elements; attributes are trusted constants. */
interface XmlNode {
  name: string;
  attributes?: string;
  text?: string;
  children?: XmlNode[];
}

function el(name: string, content: string | XmlNode[], attributes?: string): XmlNode {
  return typeof content === 'string' ? { name, text: content, attributes } : { name, children: content, attributes };
}

function renderNode(node: XmlNode, depth: number, lines: string[]): void {
  const indent = '  '.repeat(depth);
  const open = node.attributes === undefined ? node.name : `${node.name} ${node.attributes}`;
  if (node.children === undefined) {
    lines.push(`${indent}<${open}>${xmlText(node.text ?? '')}</${node.name}>`);
    return;
  }
  lines.push(`${indent}<${open}>`);
  for (const child of node.children) renderNode(child, depth + 1, lines);
  lines.push(`${indent}</${node.name}>`);
}

/** One payment's CdtTrfTxInf element and its amount, its fields checked (`index` names it in errors). */
function creditTransfer(payment: SepaPayment, index: number): { node: XmlNode; amount: Decimal } {
  const field = `payments[${index}]`;
  assertId(payment.end_to_end_id, `${field}.end_to_end_id`);
  const amount = assertAmount(payment.amount_eur, `${field}.amount_eur`);
  const creditor_iban = assertIban(payment.creditor_iban, `${field}.creditor_iban`);
  const creditor_name = requiredText(payment.creditor_name, 70, `${field}.creditor_name`);
  const remittance = sepaText(payment.remittance, 140);
  const node = el('CdtTrfTxInf', [
    el('PmtId', [el('EndToEndId', payment.end_to_end_id)]),
    el('Amt', [el('InstdAmt', amount.toFixed(2), 'Ccy="EUR"')]),
    el('Cdtr', [el('Nm', creditor_name)]),
    el('CdtrAcct', [el('Id', [el('IBAN', creditor_iban)])]),
    // Ustrd must not be empty in the XSD, and RmtInf is optional: leave it out instead.
    ...(remittance === '' ? [] : [el('RmtInf', [el('Ustrd', remittance)])]),
  ]);
  return { node, amount };
}

/** What the two versions write differently; everything else is the same in both. */
interface VersionRules {
  namespace: string;
  /** The requested execution date: a plain date in .03, a choice of date or date-time in .09. */
  execution_date: (date: string) => XmlNode;
  /** The element of the debtor agent's BIC. */
  bic_element: string;
}

const version_rules: Readonly<Record<SepaVersion, VersionRules>> = {
  '09': {
    namespace: 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.09',
    execution_date: (date) => el('ReqdExctnDt', [el('Dt', date)]),
    bic_element: 'BICFI',
  },
  '03': {
    namespace: 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.03',
    execution_date: (date) => el('ReqdExctnDt', date),
    bic_element: 'BIC',
  },
};

/**
 * Renders a SEPA credit transfer initiation (pain.001, `file.version`) with one batch: header,
 * debtor, and one CdtTrfTxInf per payment, in the element order of the XSD and indented.
 * NbOfTxs and CtrlSum are computed exactly with decimal.js.
 *
 * Both versions follow the EPC's rules beyond their XSDs: the SEPA character set, names of at
 * most 70 characters, NbOfTxs and CtrlSum in the group header and the batch, service level
 * SEPA and charges SLEV once per batch, the debtor agent by BIC or else "NOTPROVIDED", no
 * creditor agent (the creditor's bank follows from the IBAN) and no postal addresses (optional
 * when both banks are in the EEA).
 *
 * Throws a plain Error on invalid input (no payments, malformed or non-positive amounts,
 * invalid IBAN or BIC, malformed ids or date, a name that maps to nothing): these are
 * programming errors, the caller is expected to have validated its data already.
 */
export function renderPain001(file: SepaFile): string {
  if (!Object.hasOwn(version_rules, file.version)) {
    throw new Error(`SEPA version must be one of ${sepa_versions.join(', ')}: ${JSON.stringify(file.version)}`);
  }
  const rules = version_rules[file.version];
  if (file.payments.length === 0) throw new Error('SEPA file needs at least one payment');
  assertId(file.message_id, 'message_id');
  assertId(file.payment_info_id, 'payment_info_id');
  assertDate(file.execution_date, 'execution_date');
  const created_at = localDateTime(file.created_at);
  const debtor_iban = assertIban(file.debtor_iban, 'debtor_iban');
  const debtor_bic = file.debtor_bic === undefined ? undefined : file.debtor_bic.trim().toUpperCase();
  if (debtor_bic !== undefined && !bic_pattern.test(debtor_bic)) {
    throw new Error(`SEPA debtor_bic is not a valid BIC: ${JSON.stringify(file.debtor_bic)}`);
  }
  // EPC limits the initiating party's name to 70 characters although the XSD allows 140.
  const initiator_name = requiredText(file.initiator_name, 70, 'initiator_name');
  const debtor_name = requiredText(file.debtor_name, 70, 'debtor_name');

  let control_sum = new Decimal(0);
  const transactions = file.payments.map((payment, index) => {
    const transaction = creditTransfer(payment, index);
    control_sum = control_sum.plus(transaction.amount);
    return transaction.node;
  });
  const count = String(file.payments.length);
  const sum = control_sum.toFixed(2);
  // CtrlSum is an XSD DecimalNumber of at most 18 digits; only an absurd batch would exceed it.
  if (sum.replace('.', '').length > 18) throw new Error(`SEPA control sum ${sum} exceeds 18 digits`);

  const document = el(
    'Document',
    [
      el('CstmrCdtTrfInitn', [
        el('GrpHdr', [
          el('MsgId', file.message_id),
          el('CreDtTm', created_at),
          el('NbOfTxs', count),
          el('CtrlSum', sum),
          el('InitgPty', [el('Nm', initiator_name)]),
        ]),
        el('PmtInf', [
          el('PmtInfId', file.payment_info_id),
          el('PmtMtd', 'TRF'),
          el('BtchBookg', 'true'),
          el('NbOfTxs', count),
          el('CtrlSum', sum),
          el('PmtTpInf', [el('SvcLvl', [el('Cd', 'SEPA')])]),
          rules.execution_date(file.execution_date),
          el('Dbtr', [el('Nm', debtor_name)]),
          el('DbtrAcct', [el('Id', [el('IBAN', debtor_iban)])]),
          el('DbtrAgt', [
            el('FinInstnId', [
              debtor_bic === undefined ? el('Othr', [el('Id', 'NOTPROVIDED')]) : el(rules.bic_element, debtor_bic),
            ]),
          ]),
          el('ChrgBr', 'SLEV'),
          ...transactions,
        ]),
      ]),
    ],
    `xmlns="${rules.namespace}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`,
  );
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>'];
  renderNode(document, 0, lines);
  return `${lines.join('\n')}\n`;
}
