/**
 * The QR decoder for browsers without BarcodeDetector (qr-scanner, with its worker): its own
 * chunk, loaded by ui/Scanner.tsx only when the camera opens.
 */
export { default as QrScanner } from 'qr-scanner';
