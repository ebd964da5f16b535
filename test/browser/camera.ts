/**
 * Videos for Chromium's fake camera (`--use-file-for-fake-video-capture=<file>.y4m`), written from
 * a screenshot's pixels: no video tool needed.
 *
 * A YUV4MPEG2 file is a one-line header (`YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg`) and then,
 * per frame, `FRAME\n` and the three planes of a 4:2:0 picture: Y (luma, one byte a pixel), then
 * U (Cb) and V (Cr), one byte per 2×2 pixels. Chromium reads them as BT.601 "video range" (black
 * 16, white 235), which is what is written here.
 */
import { inflateSync } from 'node:zlib';

/** An image as 8-bit RGBA, row after row. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * Decodes a PNG of 8 bits a channel without interlacing: what Chromium's screenshots are (RGB
 * or RGBA; grey and grey+alpha too). Anything else is refused, not guessed.
 */
export function decodePng(png: Buffer): Rgba {
  if (!png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at + 8 <= png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, colour, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[colour!] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) {
        throw new Error(`PNG of bit depth ${depth}, colour type ${colour}, interlace ${interlace}: only 8-bit grey/RGB(A) without interlacing is read`);
      }
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  if (channels === 0) throw new Error('PNG without IHDR');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < height * (stride + 1)) throw new Error('PNG data too short');
  // Undo each row's filter (PNG spec, section 9), in place, row after row.
  const rows = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? rows[row + i - channels]! : 0;
      const b = y > 0 ? rows[row - stride + i]! : 0;
      const c = y > 0 && i >= channels ? rows[row - stride + i - channels]! : 0;
      let predictor: number;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`PNG row filter ${filter}`);
      }
      rows[row + i] = (raw[src + i]! + predictor) & 0xff;
    }
  }
  const data = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    const s = p * channels;
    const grey = channels <= 2;
    data[p * 4] = rows[s]!;
    data[p * 4 + 1] = grey ? rows[s]! : rows[s + 1]!;
    data[p * 4 + 2] = grey ? rows[s]! : rows[s + 2]!;
    data[p * 4 + 3] = channels === 2 ? rows[s + 1]! : channels === 4 ? rows[s + 3]! : 255;
  }
  return { width, height, data };
}

/**
 * Scales `image` by area averaging (each output pixel the mean of the input it covers) to
 * `width`×`height`, over white where it is transparent; RGB as floats.
 */
function scaleOverWhite(image: Rgba, width: number, height: number): Float64Array {
  // Per output column (row), the input columns (rows) it covers and how much of each.
  const spans = (from: number, to: number) => Array.from({ length: to }, (_, o) => {
    const start = (o * from) / to;
    const end = ((o + 1) * from) / to;
    const parts: Array<[number, number]> = [];
    for (let i = Math.floor(start); i < Math.min(Math.ceil(end), from); i++) {
      parts.push([i, (Math.min(end, i + 1) - Math.max(start, i)) / (end - start)]);
    }
    return parts;
  });
  const columns = spans(image.width, width);
  const rows = spans(image.height, height);
  const out = new Float64Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [iy, wy] of rows[y]!) {
        for (const [ix, wx] of columns[x]!) {
          const p = (iy * image.width + ix) * 4;
          const alpha = image.data[p + 3]! / 255;
          const w = wx * wy;
          r += w * (image.data[p]! * alpha + 255 * (1 - alpha));
          g += w * (image.data[p + 1]! * alpha + 255 * (1 - alpha));
          b += w * (image.data[p + 2]! * alpha + 255 * (1 - alpha));
        }
      }
      out.set([r, g, b], (y * width + x) * 3);
    }
  }
  return out;
}

/** What the video shows: the picture fitted into a `fit`×`fit` square, centred on white. */
export interface VideoOptions {
  width?: number;
  height?: number;
  fit?: number;
  frames?: number;
  /** Frames a second. */
  rate?: number;
}

/**
 * A y4m video of `image` standing still: scaled (keeping its proportions) to fit a 300×300
 * square, in the middle of a white 640×480 frame, 10 frames at 10 a second (Chromium plays the
 * file in a loop). 300 px is about how large a phone films a code held in front of it, and
 * qr-scanner reads only the central two thirds of a frame.
 */
export function y4mVideo(image: Rgba, options: VideoOptions = {}): Buffer {
  const { width = 640, height = 480, fit = 300, frames = 10, rate = 10 } = options;
  if (width % 2 !== 0 || height % 2 !== 0) throw new Error('a 4:2:0 video needs an even width and height');
  const factor = Math.min(fit / image.width, fit / image.height);
  const w = Math.max(1, Math.round(image.width * factor));
  const h = Math.max(1, Math.round(image.height * factor));
  const left = Math.floor((width - w) / 2);
  const top = Math.floor((height - h) / 2);
  const scaled = scaleOverWhite(image, w, h);

  // The whole frame as RGB, white around the picture.
  const rgb = new Float64Array(width * height * 3).fill(255);
  for (let y = 0; y < h; y++) rgb.set(scaled.subarray(y * w * 3, (y + 1) * w * 3), ((top + y) * width + left) * 3);

  // BT.601, video range.
  const clamp = (v: number) => Math.max(0, Math.min(255, Math.round(v)));
  const luma = Buffer.alloc(width * height);
  for (let p = 0; p < width * height; p++) {
    luma[p] = clamp(16 + (65.481 * rgb[p * 3]! + 128.553 * rgb[p * 3 + 1]! + 24.966 * rgb[p * 3 + 2]!) / 255);
  }
  const cb = Buffer.alloc((width / 2) * (height / 2));
  const cr = Buffer.alloc((width / 2) * (height / 2));
  for (let y = 0; y < height / 2; y++) {
    for (let x = 0; x < width / 2; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const p = ((2 * y + dy) * width + 2 * x + dx) * 3;
        r += rgb[p]! / 4;
        g += rgb[p + 1]! / 4;
        b += rgb[p + 2]! / 4;
      }
      cb[y * (width / 2) + x] = clamp(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      cr[y * (width / 2) + x] = clamp(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, cb, cr]);
  return Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F${rate}:1 Ip A1:1 C420jpeg\n`), ...Array.from({ length: frames }, () => frame)]);
}
