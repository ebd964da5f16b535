// Renders the app icons in web/public/icons from the SVG drawn here (run: node web/tools/make-icons.mjs).
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Resvg } from '@resvg/resvg-js';

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'public', 'icons');
mkdirSync(out, { recursive: true });

/** A white coin with a green W on green; `rounded` for the plain icon, square for maskable ones. */
const svg = (rounded) => `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" height="512">
  <rect width="512" height="512" rx="${rounded ? 104 : 0}" fill="#0b5d3b"/>
  <circle cx="256" cy="256" r="172" fill="#ffffff"/>
  <circle cx="256" cy="256" r="146" fill="none" stroke="#0b5d3b" stroke-width="10"/>
  <polyline points="170,196 212,328 256,232 300,328 342,196" fill="none" stroke="#0b5d3b" stroke-width="34" stroke-linecap="round" stroke-linejoin="round"/>
</svg>
`;

writeFileSync(path.join(out, 'icon.svg'), svg(true));
const png = (source, size, name) => {
  const image = new Resvg(source, { fitTo: { mode: 'width', value: size } }).render();
  writeFileSync(path.join(out, name), image.asPng());
};
png(svg(true), 192, 'icon-192.png');
png(svg(true), 512, 'icon-512.png');
png(svg(false), 512, 'icon-maskable-512.png');
png(svg(false), 180, 'apple-touch-icon.png');
