/**
 * The printable A4 sheet of wallet cards: eight cards a page (two columns of four, 93 × 65 mm,
 * dashed lines to cut along), each with the volunteer's name, the QR of the card URL, short
 * instructions in the volunteer's language (10 pt) and the typed code on one line.
 */
export interface PrintedCard {
  display_name: string;
  language: string;
  /** Grouped code, e.g. "K7QM-3D9X-P2RT-8HWV-Z". */
  code: string;
  url: string;
  qr_svg: string;
}

const instructions: Record<string, { title: string; steps: string[] }> = {
  nl: {
    title: 'Mijn wijkmuntkaart',
    steps: ['Scan de code met je gsm, of toon de kaart in de winkel.', 'Betalen doe je met je geheime pincode.', 'Kaart kwijt? Vraag een nieuwe aan je buurtwerker.'],
  },
  en: {
    title: 'My neighbourhood coin card',
    steps: ['Scan the code with your phone, or show the card in the shop.', 'You pay with your secret PIN.', 'Lost your card? Ask your neighbourhood worker for a new one.'],
  },
  fr: {
    title: 'Ma carte de monnaie de quartier',
    steps: ['Scannez le code avec votre téléphone, ou montrez la carte au magasin.', 'Vous payez avec votre code PIN secret.', 'Carte perdue ? Demandez-en une nouvelle à votre travailleur de quartier.'],
  },
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Two columns of four: 2 × 93 mm + 4 mm and 4 × 65 mm + 3 × 4 mm fit the 190 × 277 mm inside A4's 10 mm margins. */
const cards_per_page = 8;
/** Longer names are printed at 11 pt instead of 14 pt, so most full names fit on the card's line (longer ones end in an ellipsis). */
const name_chars_large_max = 18;

function renderCard(currency_name: string, card: PrintedCard): string {
  const lang = instructions[card.language] ?? instructions.nl!;
  const name_class = card.display_name.length > name_chars_large_max ? 'name long' : 'name';
  return `<section class="card" lang="${escapeHtml(card.language)}">
  <header><h2>${escapeHtml(lang.title)}</h2><p class="currency">${escapeHtml(currency_name)}</p></header>
  <p class="${name_class}">${escapeHtml(card.display_name)}</p>
  <div class="qr">${card.qr_svg}</div>
  <ol>${lang.steps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ol>
  <p class="code">${escapeHtml(card.code)}</p>
</section>`;
}

/**
 * The sheet as HTML with print CSS. The cards are laid out page by page, each page a grid of its
 * own that fits inside the printable area, so a page break never depends on how the browser
 * splits one long grid (which left an empty page after every eighth card).
 */
export function renderCardSheet(currency_name: string, cards: PrintedCard[]): string {
  const pages: string[] = [];
  for (let first = 0; first < cards.length; first += cards_per_page) {
    const items = cards.slice(first, first + cards_per_page).map((card) => renderCard(currency_name, card));
    pages.push(`<div class="page">\n${items.join('\n')}\n</div>`);
  }
  return `<!doctype html>
<html lang="nl-BE">
<head>
<meta charset="utf-8">
<title>${escapeHtml(currency_name)} — kaarten</title>
<style>
  @page { size: A4; margin: 10mm; }
  body { font-family: system-ui, sans-serif; margin: 0; }
  .page { display: grid; grid-template-columns: repeat(2, 93mm); grid-auto-rows: 65mm; gap: 4mm; }
  .page + .page { break-before: page; }
  .card { box-sizing: border-box; overflow: hidden; border: 1px dashed #888; padding: 3mm; display: grid;
          grid-template-columns: 27mm 1fr; grid-template-rows: auto auto 1fr auto; column-gap: 3mm; break-inside: avoid; }
  .card header { grid-column: 1 / 3; display: flex; justify-content: space-between; align-items: baseline; gap: 2mm; }
  .card h2 { font-size: 10pt; line-height: 1.2; margin: 0; }
  .currency { font-size: 8pt; color: #555; margin: 0; white-space: nowrap; }
  .name { grid-column: 1 / 3; font-size: 14pt; line-height: 1.2; font-weight: bold; margin: 0.5mm 0 1mm;
          white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .name.long { font-size: 11pt; }
  .qr { grid-column: 1; grid-row: 3; width: 27mm; }
  .qr svg { display: block; width: 27mm; height: 27mm; }
  ol { grid-column: 2; grid-row: 3; font-size: 10pt; line-height: 1.2; margin: 0; padding-left: 3.5mm; }
  li + li { margin-top: 0.5mm; }
  .code { grid-column: 1 / 3; font-family: ui-monospace, monospace; font-size: 14pt; line-height: 1.2; letter-spacing: 0.5pt;
          white-space: nowrap; margin: 1mm 0 0; }
  @media screen {
    body { padding: 1rem; background: #eee; }
    .page { box-sizing: content-box; width: 190mm; padding: 10mm; margin: 0 auto 1rem; background: #fff; }
  }
</style>
</head>
<body>
<main class="sheet">
${pages.join('\n')}
</main>
</body>
</html>`;
}
