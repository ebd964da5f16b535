import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';
import { Button } from './Button.js';
import { Icon } from './Icon.js';

/** The browser's own QR decoder where it has one (not on Linux Chromium). */
interface NativeBarcodeDetector {
  detect(source: HTMLVideoElement): Promise<Array<{ rawValue: string }>>;
}
interface NativeBarcodeDetectorClass {
  new (options: { formats: string[] }): NativeBarcodeDetector;
  getSupportedFormats(): Promise<string[]>;
}

async function nativeDetector(): Promise<NativeBarcodeDetector | undefined> {
  const Detector = (window as unknown as { BarcodeDetector?: NativeBarcodeDetectorClass }).BarcodeDetector;
  if (Detector === undefined) return undefined;
  try {
    return (await Detector.getSupportedFormats()).includes('qr_code') ? new Detector({ formats: ['qr_code'] }) : undefined;
  } catch {
    return undefined;
  }
}

/** A running camera: stop() releases it. */
interface Camera { stop(): void }

const native_scan_interval_ms = 200;
const same_code_quiet_ms = 2500;

/**
 * Starts the back camera on `video` and calls onCode for every QR code seen: with the native
 * BarcodeDetector when present, else with qr-scanner, loaded only now (its own chunk).
 */
async function startCamera(video: HTMLVideoElement, onCode: (text: string) => void): Promise<Camera> {
  const detector = await nativeDetector();
  if (detector !== undefined) {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    video.srcObject = stream;
    await video.play();
    let running = true;
    const tick = async () => {
      if (!running) return;
      try {
        for (const code of await detector.detect(video)) onCode(code.rawValue);
      } catch {
        // A frame that could not be read: try the next one.
      }
      if (running) setTimeout(() => void tick(), native_scan_interval_ms);
    };
    void tick();
    return {
      stop: () => {
        running = false;
        for (const track of stream.getTracks()) track.stop();
        video.srcObject = null;
      },
    };
  }
  const { QrScanner } = await import('../lib/qr-decode.js');
  const scanner = new QrScanner(video, (result) => onCode(result.data), {
    returnDetailedScanResult: true,
    preferredCamera: 'environment',
    maxScansPerSecond: 8,
    onDecodeError: () => {},
  });
  try {
    await scanner.start();
  } catch (error) {
    scanner.destroy();
    throw error;
  }
  return { stop: () => scanner.destroy() };
}

type CameraState = 'off' | 'starting' | 'on' | 'denied' | 'unavailable';

/**
 * Scans QR codes with the camera and always offers to type or paste the code instead. Calls
 * onResult with the text of each code (the same code at most once every few seconds), and keeps
 * scanning: the parent moves on (and so unmounts this) when the code is what it wanted.
 */
export function Scanner({ onResult, autoStart = true, manualLabel, manualPlaceholder }: {
  onResult: (text: string) => void;
  autoStart?: boolean;
  manualLabel?: string;
  manualPlaceholder?: string;
}) {
  const video = useRef<HTMLVideoElement>(null);
  const camera = useRef<Camera | undefined>(undefined);
  const last = useRef<{ text: string; at: number } | undefined>(undefined);
  const handler = useRef(onResult);
  handler.current = onResult;
  const [state, setState] = useState<CameraState>('off');
  const [typed, setTyped] = useState('');
  const input_id = useId();

  const deliver = (text: string) => {
    const now = Date.now();
    if (last.current !== undefined && last.current.text === text && now - last.current.at < same_code_quiet_ms) return;
    last.current = { text, at: now };
    handler.current(text);
  };

  const stop = () => {
    camera.current?.stop();
    camera.current = undefined;
    setState('off');
  };

  const start = async () => {
    const element = video.current;
    if (element === null) return;
    if (navigator.mediaDevices?.getUserMedia === undefined) {
      setState('unavailable');
      return;
    }
    setState('starting');
    try {
      const started = await startCamera(element, deliver);
      if (video.current === null) {
        started.stop();
        return;
      }
      camera.current = started;
      setState('on');
    } catch (error) {
      const name = error instanceof DOMException ? error.name : '';
      setState(name === 'NotAllowedError' || name === 'SecurityError' ? 'denied' : 'unavailable');
    }
  };

  useEffect(() => {
    if (autoStart) void start();
    return () => {
      camera.current?.stop();
      camera.current = undefined;
    };
  }, []);

  const message = {
    off: undefined,
    starting: t('common.scan_starting'),
    on: t('common.scan_point'),
    denied: t('common.scan_denied'),
    unavailable: t('common.scan_no_camera'),
  }[state];

  return (
    <div class="scanner" data-testid="scanner" data-camera={state}>
      <div class={`scanner-view ${state === 'on' || state === 'starting' ? '' : 'scanner-view-idle'}`}>
        <video ref={video} muted playsInline aria-label={t('common.scan_video_label')} data-testid="scanner-video" />
        {state !== 'on' && state !== 'starting' && <Icon name="camera-off" size={56} class="scanner-idle-icon" />}
      </div>
      {message !== undefined && (
        <p class={`scanner-status ${state === 'denied' || state === 'unavailable' ? 'scanner-status-problem' : ''}`} role="status">
          {message}
        </p>
      )}
      {state === 'on' || state === 'starting'
        ? <Button variant="secondary" icon="camera-off" onClick={stop} data-testid="camera-off">{t('common.scan_camera_off')}</Button>
        : <Button variant="secondary" icon="camera" onClick={() => void start()} data-testid="camera-on">{t('common.scan_camera_on')}</Button>}
      <form
        class="scanner-manual"
        onSubmit={(event) => {
          event.preventDefault();
          const text = typed.trim();
          if (text !== '') {
            last.current = undefined;
            deliver(text);
          }
        }}
      >
        <label for={input_id}>
          <Icon name="keyboard" />
          <span>{manualLabel ?? t('common.scan_manual_label')}</span>
        </label>
        <div class="inline-form">
          <input
            id={input_id} type="text" value={typed} autoComplete="off" autoCapitalize="characters" spellcheck={false}
            placeholder={manualPlaceholder} data-testid="scanner-manual-input"
            onInput={(event) => setTyped(event.currentTarget.value)}
          />
          <Button type="submit" icon="check" data-testid="scanner-manual-submit">{t('common.scan_manual_submit')}</Button>
        </div>
      </form>
    </div>
  );
}
