/**
 * Header rows for people: a CSV download asked with `?lang=` names its columns in Dutch, English
 * or French and writes its totals row as "Totaal" / "Total", for whoever opens it in a
 * spreadsheet. Without `lang` the header is the documented column names (docs/reports.md), which
 * programs read; the rows are the same either way.
 */
export const csv_languages = ['nl', 'en', 'fr'] as const;
export type CsvLanguage = (typeof csv_languages)[number];

type Words = Readonly<Record<CsvLanguage, string>>;

const w = (nl: string, en: string, fr: string): Words => ({ nl, en, fr });

/** Every column of every CSV download, by its documented name. */
export const column_words: Readonly<Record<string, Words>> = {
  // transfers.csv
  id: w('Kenmerk', 'Reference', 'Référence'),
  created_at: w('Tijdstip (UTC)', 'Time (UTC)', 'Moment (UTC)'),
  code: w('Soort', 'Kind', 'Type'),
  phase: w('Fase', 'Phase', 'Phase'),
  status: w('Status', 'Status', 'Statut'),
  debit_account_id: w('Kenmerk van-rekening', 'From account reference', 'Référence du compte débité'),
  debit_account_name: w('Van', 'From', 'De'),
  credit_account_id: w('Kenmerk naar-rekening', 'To account reference', 'Référence du compte crédité'),
  credit_account_name: w('Naar', 'To', 'À'),
  amount: w('Bedrag', 'Amount', 'Montant'),
  memo: w('Omschrijving', 'Memo', 'Libellé'),
  created_by: w('Door', 'By', 'Par'),
  pending_id: w('Kenmerk reservering', 'Reservation reference', 'Référence de la réservation'),
  reverses_id: w('Corrigeert', 'Corrects', 'Corrige'),
  // balances.csv
  account_id: w('Kenmerk rekening', 'Account reference', 'Référence du compte'),
  kind: w('Soort rekening', 'Account kind', 'Type de compte'),
  name: w('Naam', 'Name', 'Nom'),
  balance: w('Saldo', 'Balance', 'Solde'),
  // volunteering.csv
  activity_id: w('Kenmerk activiteit', 'Activity reference', 'Référence de l’activité'),
  activity_nl: w('Activiteit (Nederlands)', 'Activity (Dutch)', 'Activité (néerlandais)'),
  activity_en: w('Activiteit (Engels)', 'Activity (English)', 'Activité (anglais)'),
  activity_fr: w('Activiteit (Frans)', 'Activity (French)', 'Activité (français)'),
  category: w('Categorie', 'Category', 'Catégorie'),
  month: w('Maand', 'Month', 'Mois'),
  hours: w('Uren', 'Hours', 'Heures'),
  coins: w('Munten', 'Coins', 'Pièces'),
  rewards: w('Beloningen', 'Rewards', 'Récompenses'),
  volunteers: w('Vrijwilligers', 'Volunteers', 'Bénévoles'),
  first_time_volunteers: w('Nieuwe vrijwilligers', 'First-time volunteers', 'Nouveaux bénévoles'),
  // shops.csv
  shop_account_id: w('Kenmerk winkel', 'Shop reference', 'Référence du commerce'),
  shop_name: w('Winkel', 'Shop', 'Commerce'),
  payments: w('Betalingen', 'Payments', 'Paiements'),
  takings: w('Ontvangen', 'Takings', 'Recettes'),
  refunds: w('Terugbetaald', 'Refunds', 'Remboursements'),
  net: w('Netto', 'Net', 'Net'),
  redemptions_requested: w('Uitbetaling aangevraagd', 'Cash-out requested', 'Échange demandé'),
  redemptions_approved: w('Uitbetaling goedgekeurd', 'Cash-out approved', 'Échange approuvé'),
  redemptions_rejected: w('Uitbetaling geweigerd', 'Cash-out rejected', 'Échange refusé'),
  euros_paid_out: w('Euro uitbetaald', 'Euros paid out', 'Euros versés'),
  // circulation.csv and liability.csv
  at: w('Op (einde van de dag)', 'At (end of day)', 'Au (fin de journée)'),
  in_programmes: w('Bij programma\'s', 'In programmes', 'Dans les programmes'),
  in_wallets: w('Bij vrijwilligers', 'In volunteers\' wallets', 'Chez les bénévoles'),
  in_shops: w('Bij winkels', 'In shops', 'Dans les commerces'),
  circulating: w('In omloop', 'In circulation', 'En circulation'),
  euro_liability: w('Waarde in euro', 'Value in euros', 'Valeur en euros'),
  expiring: w('Vervalt', 'Expiring', 'Expire'),
  // payouts.csv
  payout_id: w('Kenmerk uitbetaling', 'Payout reference', 'Référence du versement'),
  shop: w('Winkel', 'Shop', 'Commerce'),
  iban: w('IBAN', 'IBAN', 'IBAN'),
  euro_amount: w('Bedrag in euro', 'Amount in euros', 'Montant en euros'),
  reference: w('Mededeling', 'Bank reference', 'Communication'),
  redemption_id: w('Kenmerk aanvraag', 'Request reference', 'Référence de la demande'),
  export_id: w('Kenmerk betaalbestand', 'Payment file reference', 'Référence du fichier de paiement'),
  exported_at: w('Betaalbestand gemaakt (UTC)', 'Payment file made (UTC)', 'Fichier de paiement créé (UTC)'),
};

const total_words = w('Totaal', 'Total', 'Total');

/** The header row: the documented names, or in `language` the words for people. Throws on a column without words (a programming error). */
export function headerIn(header: readonly string[], language: CsvLanguage | undefined): string[] {
  if (language === undefined) return [...header];
  return header.map((name) => {
    const words = column_words[name];
    if (words === undefined) throw new Error(`CSV column ${name} has no words for people`);
    return words[language];
  });
}

/** What the totals row says in its first column: `total`, or its word in `language`. */
export function totalIn(language: CsvLanguage | undefined): string {
  return language === undefined ? 'total' : total_words[language];
}
