/**
 * The printable A4 sheet of wallet cards: eight cards a page, each with the volunteer's name,
 * the QR of the card URL, the typed code, and short instructions in the volunteer's language.
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

export function renderCardSheet(currency_name: string, cards: PrintedCard[]): string {
  const items = cards.map((card) => {
    const lang = instructions[card.language] ?? instructions.nl!;
    return `<section class="card" lang="${escapeHtml(card.language)}">
  <h2>${escapeHtml(lang.title)}</h2>
  <p class="name">${escapeHtml(card.display_name)}</p>
  <div class="qr">${card.qr_svg}</div>
  <p class="code">${escapeHtml(card.code)}</p>
  <ol>${lang.steps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ol>
  <p class="currency">${escapeHtml(currency_name)}</p>
</section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="nl-BE">
<head>
<meta charset="utf-8">
<title>${escapeHtml(currency_name)} — kaarten</title>
<style>
  @page { size: A4; margin: 10mm; }
  body { font-family: system-ui, sans-serif; margin: 0; }
  .sheet { display: grid; grid-template-columns: 1fr 1fr; gap: 4mm; }
  .card { box-sizing: border-box; height: 66mm; border: 1px dashed #888; padding: 3mm 4mm; display: grid;
          grid-template-columns: 30mm 1fr; grid-template-rows: auto auto auto 1fr; column-gap: 4mm; break-inside: avoid; }
  .card h2 { grid-column: 1 / 3; font-size: 10pt; margin: 0 0 1mm; }
  .name { grid-column: 2; font-size: 14pt; font-weight: bold; margin: 0; }
  .qr { grid-column: 1; grid-row: 2 / 5; width: 30mm; }
  .qr svg { width: 30mm; height: 30mm; }
  .code { grid-column: 2; font-family: ui-monospace, monospace; font-size: 12pt; letter-spacing: 0.5pt; margin: 1mm 0; }
  ol { grid-column: 2; font-size: 8pt; margin: 0; padding-left: 4mm; }
  .currency { grid-column: 1 / 3; font-size: 7pt; color: #555; margin: 1mm 0 0; }
  @media screen { body { padding: 1rem; background: #eee; } .card { background: #fff; } }
  @media print { .card:nth-child(8n) { break-after: page; } }
</style>
</head>
<body>
<main class="sheet">
${items}
</main>
</body>
</html>`;
}
