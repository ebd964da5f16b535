/** Draws QR codes (the `qrcode` library): its own chunk, loaded by ui/QrCode.tsx on first use. */
import QRCode from 'qrcode';

export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
