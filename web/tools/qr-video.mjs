// Writes a Y4M video showing one QR code, for Chromium's fake camera in browser tests:
//   node web/tools/qr-video.mjs "http://localhost:8080/claim#<token>" /tmp/claim.y4m
//   chromium --use-fake-ui-for-media-stream --use-fake-device-for-media-stream \
//            --use-file-for-fake-video-capture=/tmp/claim.y4m
import { writeFileSync } from 'node:fs';
import QRCode from 'qrcode';

const [text, out] = process.argv.slice(2);
if (text === undefined || out === undefined) {
  console.error('usage: node web/tools/qr-video.mjs <text> <out.y4m>');
  process.exit(2);
}
const width = 640;
const height = 480;
const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
const modules = qr.modules.size;
const quiet = 4;
const scale = Math.floor((Math.min(width, height) * 0.85) / (modules + 2 * quiet));
const size = scale * (modules + 2 * quiet);
const left = Math.floor((width - size) / 2);
const top = Math.floor((height - size) / 2);
// 4:2:0 frame: a grey luma plane with the code drawn in black on white, neutral chroma.
const luma = Buffer.alloc(width * height, 200);
for (let row = 0; row < modules + 2 * quiet; row++) {
  for (let col = 0; col < modules + 2 * quiet; col++) {
    const r = row - quiet;
    const c = col - quiet;
    const dark = r >= 0 && c >= 0 && r < modules && c < modules && qr.modules.get(r, c);
    for (let dy = 0; dy < scale; dy++) {
      luma.fill(dark ? 16 : 235, (top + row * scale + dy) * width + left + col * scale, (top + row * scale + dy) * width + left + (col + 1) * scale);
    }
  }
}
const chroma = Buffer.alloc((width / 2) * (height / 2), 128);
const frames = 10;
const parts = [Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`)];
for (let i = 0; i < frames; i++) parts.push(Buffer.from('FRAME\n'), luma, chroma, chroma);
writeFileSync(out, Buffer.concat(parts));
