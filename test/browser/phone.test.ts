/**
 * Issue #19 point 7, on a 360×640 phone in Dutch and English: the PIN screen's submit
 * key shows its whole label, and it stays on the screen without scrolling — also after a wrong
 * PIN, when an error and the tries left appear above the pad.
 */
import type { Browser, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { requireTools, withPage, worldAndBrowser } from './support.js';
import type { World } from './support.js';

let world: World;
let browser: Browser;

it('has a Chromium and its fonts', () => requireTools());

/** Whether an element lies wholly in the viewport, and its text is not cut (no overflow). */
async function wholeAndVisible(page: Page, testid: string): Promise<{ inside: boolean; cut: boolean; label: string; bottom: number }> {
  return page.getByTestId(testid).evaluate((element) => {
    const box = element.getBoundingClientRect();
    const inside = box.top >= 0 && box.left >= 0 && box.bottom <= window.innerHeight && box.right <= window.innerWidth;
    const cut = element.scrollWidth > element.clientWidth + 1 || [...element.querySelectorAll('*')].some((child) =>
      (child as HTMLElement).scrollWidth > (child as HTMLElement).clientWidth + 1);
    return { inside, cut, label: (element.textContent ?? '').trim(), bottom: Math.round(box.bottom) };
  });
}

describe('the wallet on a 360×640 phone (#19 point 7)', () => {
  const suite = worldAndBrowser('phone');
  beforeAll(() => {
    ({ world, browser } = suite);
  }, 240_000);

  for (const lang of ['nl', 'en'] as const) {
    it(`${lang}: the PIN screen keeps its whole submit key on screen, before and after a wrong PIN`, async () => {
      const person = world.demo.volunteers.find((v) => v.language === lang)!;
      await withPage(browser, world, 'phone', lang, async (page) => {
        await page.goto(person.card_url);
        await page.getByTestId('open-card').waitFor();
        const before = await wholeAndVisible(page, 'pin-ok');
        expect(before, JSON.stringify(before)).toMatchObject({ inside: true, cut: false });
        const wrong = person.pin === '5827' ? '6190' : '5827';
        for (const digit of wrong) await page.getByTestId(`pin-${digit}`).click();
        await page.getByTestId('pin-ok').click();
        await page.getByTestId('open-error').waitFor();
        const after = await wholeAndVisible(page, 'pin-ok');
        expect(after, JSON.stringify(after)).toMatchObject({ inside: true, cut: false });
        expect(after.label.length).toBeGreaterThan(2);
      });
    });
  }
});
