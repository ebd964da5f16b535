import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';

/**
 * A QR code of `text`, drawn in the browser as SVG. The `qrcode` library loads on first use,
 * so screens without a QR code do not pay for it (the service worker keeps it for offline use);
 * when it cannot load, the box says so instead of staying blank.
 */
export function QrCode({ text, size = 280, label, testid, class: extra }: { text: string; size?: number; label?: string; testid?: string; class?: string }) {
  const [svg, setSvg] = useState<string | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    setFailed(false);
    import('../lib/qr-render.js')
      .then(({ qrSvg }) => qrSvg(text))
      .then((markup) => { if (live) setSvg(markup); })
      .catch(() => { if (live) setFailed(true); });
    return () => { live = false; };
  }, [text]);
  return (
    <div
      class={extra === undefined ? 'qr-code' : `qr-code ${extra}`}
      role="img"
      aria-label={failed ? t('common.qr_unavailable') : label ?? t('common.qr_label', { text })}
      data-testid={testid}
      data-qr-text={text}
      style={{ width: `${size}px` }}
      // The markup comes from the QR library, built from our own text: no user HTML.
      dangerouslySetInnerHTML={svg === undefined ? undefined : { __html: svg }}
    >
      {svg === undefined && failed ? <p class="qr-unavailable" data-testid="qr-unavailable" aria-hidden="true">{t('common.qr_unavailable')}</p> : undefined}
    </div>
  );
}
