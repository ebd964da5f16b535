/**
 * The fake camera videos of the browser tests (test/browser/camera.ts), without a browser: the
 * PNG decoder reads what a renderer wrote, and the y4m video of a QR code is read back by a real
 * QR decoder from its luma plane.
 */
import { Resvg } from '@resvg/resvg-js';
import jsQRModule from 'jsqr';
import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { decodePng, y4mVideo } from './browser/camera.js';

// jsqr is a CommonJS bundle: what a default import yields differs between type checker and run time.
type JsQR = typeof jsQRModule.default;
const jsQR: JsQR = (jsQRModule as unknown as { default?: JsQR }).default ?? (jsQRModule as unknown as JsQR);

describe('fake camera videos', () => {
  it('decodes PNGs pixel for pixel (RGBA from resvg, RGBA from qrcode)', async () => {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="97" height="61">
      <rect width="97" height="61" fill="#fafafa"/>
      <circle cx="30" cy="30" r="25" fill="#0c5e3c"/>
      <rect x="50" y="10" width="40" height="40" fill="rgb(200, 30, 120)" opacity="0.5"/>
      <path d="M0 60 L97 0" stroke="#123456" stroke-width="3"/>
    </svg>`;
    const rendered = new Resvg(svg).render();
    const decoded = decodePng(rendered.asPng());
    expect([decoded.width, decoded.height]).toEqual([97, 61]);
    expect(Buffer.from(decoded.data).equals(Buffer.from(rendered.pixels))).toBe(true);

    const qr = decodePng(await QRCode.toBuffer('wijkmunt', { margin: 2, scale: 3 }));
    const modules = QRCode.create('wijkmunt', {}).modules;
    expect(qr.width).toBe((modules.size + 4) * 3);
    for (let row = 0; row < modules.size; row++) {
      for (let col = 0; col < modules.size; col++) {
        const p = (((row + 2) * 3 + 1) * qr.width + (col + 2) * 3 + 1) * 4;
        expect(qr.data[p]).toBe(modules.get(row, col) ? 0 : 255);
      }
    }
  });

  it('writes a 640×480 y4m of a QR code, 300 px in the middle, that a QR decoder reads', async () => {
    const text = 'http://127.0.0.1:45678/claim#eyJhbGciOiJFZERTQSJ9.eyJzIjoiMTIzNCJ9.c2lnbmF0dXJl';
    const png = decodePng(await QRCode.toBuffer(text, { margin: 4, scale: 7 }));
    const video = y4mVideo(png);
    const header = 'YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n';
    const frame = 6 + 640 * 480 * 3 / 2;
    expect(video.subarray(0, header.length).toString('latin1')).toBe(header);
    expect(video.length).toBe(header.length + 10 * frame);
    expect(video.subarray(header.length + frame, header.length + frame + 6).toString('latin1')).toBe('FRAME\n');

    const luma = video.subarray(header.length + 6, header.length + 6 + 640 * 480);
    // White around, black modules (video range: 235 and 16); chroma neutral for black and white.
    expect(luma[0]).toBe(235);
    expect(luma.reduce((min, value) => Math.min(min, value), 255)).toBe(16);
    const chroma = video.subarray(header.length + 6 + 640 * 480, header.length + frame);
    expect(chroma.every((value) => value === 128)).toBe(true);
    // The code (dark modules) lies within the 300×300 square in the middle.
    let [left, top, right, bottom] = [640, 480, 0, 0];
    for (let y = 0; y < 480; y++) {
      for (let x = 0; x < 640; x++) {
        if (luma[y * 640 + x]! < 128) [left, top, right, bottom] = [Math.min(left, x), Math.min(top, y), Math.max(right, x), Math.max(bottom, y)];
      }
    }
    expect(left).toBeGreaterThanOrEqual(170);
    expect(right).toBeLessThan(470);
    expect(top).toBeGreaterThanOrEqual(90);
    expect(bottom).toBeLessThan(390);
    expect(right - left).toBeGreaterThan(200);

    const rgba = new Uint8ClampedArray(640 * 480 * 4);
    for (let p = 0; p < 640 * 480; p++) rgba.fill(Math.round(((luma[p]! - 16) * 255) / 219), p * 4, p * 4 + 3).fill(255, p * 4 + 3, p * 4 + 4);
    expect(jsQR(rgba, 640, 480)?.data).toBe(text);
  });
});
