/**
 * The printed card sheet (issue #19, point 14), as a coordinator prints it: the sheet comes from
 * the API (`GET /currencies/{code}/cards/sheet`) for 1, 9, 10, 11 and 20 volunteers, Chromium
 * prints it to an A4 PDF, and the PDF has eight cards a page and no empty page (the pages are
 * counted in the PDF's own objects, and each page's drawing is read for text). In the laid-out
 * sheet, with the print styles, every card code sits on one line, the instructions are 10 pt or
 * more, and each card holds all its text. The names are long and the languages mixed: French has
 * the longest instructions.
 */
import { inflateSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../support/app.js';
import type { TestApp } from '../support/app.js';
import { createCurrency } from '../support/http-fixtures.js';
import { registerVolunteer } from '../support/volunteer-fixtures.js';
import { launchBrowser, requireTools } from './support.js';

const cards_per_page = 8;
/** 10 pt in CSS pixels (96 a inch, 72 pt an inch). */
const instructions_px_min = (10 * 96) / 72;
/** A4 (210 × 297 mm) less the sheet's 10 mm margins, in CSS pixels (96 an inch). */
const printable_px = { width: Math.round((190 / 25.4) * 96), height: Math.round((277 / 25.4) * 96) };
const names = [
  'Marie-Christine', 'Abdelkader Benali-Vermeulen', 'Anneke', 'Wout', 'Aïcha', 'Jean-Baptiste', 'Fatima Zahra', 'Bartholomeus', 'Oumaima', 'Kristof',
  'Guillaume', 'Nele', 'Mohammed Amine', 'Ilse', 'Esmeralda', 'Yasmina', 'Pieter-Jan', 'Ayşe', 'Ward', 'Françoise',
];
const languages = ['fr', 'nl', 'en'] as const;

let t: TestApp;
let coordinator: string;
let browser: Browser;
const wallets: string[] = [];

/** What one page of a PDF draws: whether any text, and how many drawing operators at all. */
interface PdfPage {
  text: boolean;
  operators: number;
}

/**
 * The pages of a PDF as Chromium (Skia) writes it: every `/Type /Page` object (not `/Pages`, the
 * page tree) and its content streams, inflated. Enough for Chromium's own output; not a general
 * PDF reader (no object streams, no indirect lengths).
 */
function pdfPages(pdf: Buffer): PdfPage[] {
  const text = pdf.toString('latin1');
  const objects = new Map<number, string>();
  for (const match of text.matchAll(/(\d+) 0 obj\b([\s\S]*?)\bendobj/g)) objects.set(Number(match[1]), match[2]!);
  const streamOf = (id: number): string => {
    const body = objects.get(id);
    if (body === undefined) throw new Error(`PDF object ${id} is missing`);
    const start = body.indexOf('stream');
    const end = body.lastIndexOf('endstream');
    if (start < 0 || end < 0) throw new Error(`PDF object ${id} is no stream`);
    let data = Buffer.from(body.slice(start + 'stream'.length, end), 'latin1');
    data = data.subarray(data[0] === 0x0d ? 2 : 1);
    return /\/Filter\s*\/FlateDecode/.test(body.slice(0, start)) ? inflateSync(data).toString('latin1') : data.toString('latin1');
  };
  const pages: PdfPage[] = [];
  for (const [, body] of [...objects].sort(([a], [b]) => a - b)) {
    if (!/\/Type\s*\/Page(?![a-zA-Z])/.test(body)) continue;
    const contents = /\/Contents\s*(?:(\d+) 0 R|\[([^\]]*)\])/.exec(body);
    const ids = contents === null ? [] : contents[1] !== undefined ? [Number(contents[1])] : [...contents[2]!.matchAll(/(\d+) 0 R/g)].map((m) => Number(m[1]));
    const drawing = ids.map(streamOf).join('\n');
    pages.push({ text: /\bT[jJ]\b/.test(drawing), operators: drawing.split(/\s+/).filter((w) => /^[a-zA-Z*'"]+$/.test(w)).length });
  }
  return pages;
}

/** What the laid-out sheet shows with its print styles, card by card. */
async function layout(page: Page) {
  return page.evaluate(() => [...document.querySelectorAll<HTMLElement>('.card')].map((card) => {
    const code = card.querySelector<HTMLElement>('.code')!;
    const steps = card.querySelector<HTMLElement>('ol')!;
    // One rectangle per line box the code's text is laid out on.
    const range = document.createRange();
    range.selectNodeContents(code);
    const line_tops = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
    return {
      code: code.textContent,
      code_lines: line_tops.size,
      code_fits: code.scrollWidth <= code.clientWidth,
      instructions_px: Number.parseFloat(getComputedStyle(steps).fontSize),
      overflow_px: card.scrollHeight - card.clientHeight,
      // A part cut short (an ellipsis, a row squeezed by the grid) or lying past the card's edge.
      clipped: [...card.children].filter((part) => {
        const box = part.getBoundingClientRect();
        const edge = card.getBoundingClientRect();
        return part.scrollHeight > part.clientHeight || part.scrollWidth > part.clientWidth
          || box.top < edge.top || box.bottom > edge.bottom || box.left < edge.left || box.right > edge.right;
      }).map((part) => part.className || part.tagName),
    };
  }));
}

it('has a Chromium and its fonts', () => requireTools());

describe('the printed card sheet, in Chromium', () => {
  beforeAll(async () => {
    requireTools();
    t = await createTestApp({ PUBLIC_BASE_URL: 'https://wijk.example.org' });
    const tor = await createCurrency(t, 'TOR', 0);
    coordinator = (await t.createStaff('coordinator', [tor.id])).token;
    for (const [i, name] of names.entries()) {
      wallets.push((await registerVolunteer(t, 'TOR', { name, language: languages[i % languages.length] })).account);
    }
    browser = await launchBrowser();
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await t?.close();
  }, 60_000);

  for (const count of [1, 9, 10, 11, 20]) {
    const pages = Math.ceil(count / cards_per_page);
    it(`${count} cards print on ${pages} A4 page${pages === 1 ? '' : 's'}, none empty, each code on one line, instructions ≥ 10 pt`, async () => {
      const query = wallets.slice(0, count).map((id) => `wallet=${id}`).join('&');
      const reply = await t.request('GET', `/api/v1/currencies/TOR/cards/sheet?${query}`, { token: coordinator });
      expect(reply.status).toBe(200);
      const page = await browser.newPage();
      try {
        await page.setContent(reply.body as string, { waitUntil: 'load' });
        const pdf = await page.pdf({ format: 'A4', printBackground: true });
        const printed = pdfPages(pdf);
        expect(printed, JSON.stringify(printed)).toHaveLength(pages);
        // Only `/Type /Page` objects were counted: the page tree (`/Pages`) is one more object.
        expect(pdf.toString('latin1').match(/\/Type\s*\/Page(?![a-zA-Z])/g)).toHaveLength(pages);
        for (const [i, drawn] of printed.entries()) expect(drawn.text, `page ${i + 1} of ${pages} draws no text`).toBe(true);

        // Laid out as on paper: the print styles, on the width and height inside A4's 10 mm margins.
        await page.emulateMedia({ media: 'print' });
        await page.setViewportSize(printable_px);
        const cards = await layout(page);
        expect(cards).toHaveLength(count);
        for (const card of cards) {
          expect(card.code_lines, `${card.code} on one line`).toBe(1);
          expect(card.code_fits, `${card.code} fits its line`).toBe(true);
          expect(card.instructions_px).toBeGreaterThanOrEqual(instructions_px_min - 0.01);
          expect(card.overflow_px, `the card of ${card.code} holds its text`).toBeLessThanOrEqual(0);
          expect(card.clipped, `parts of the card of ${card.code} cut short`).toEqual([]);
        }
        // The cards of each printed page, in the sheet's own pages.
        const per_page = await page.evaluate(() => [...document.querySelectorAll('.page')].map((p) => p.querySelectorAll('.card').length));
        expect(per_page).toEqual(Array.from({ length: pages }, (_, i) => Math.min(cards_per_page, count - i * cards_per_page)));
      } finally {
        await page.close();
      }
    });
  }
});
