import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/index.js';

/**
 * A QR code of `text`, drawn in the browser as SVG. The `qrcode` library loads on first use,
 * so screens without a QR code do not pay for it.
 */
export function QrCode({ text, size = 280, label, testid, class: extra }: { text: string; size?: number; label?: string; testid?: string; class?: string }) {
  const [svg, setSvg] = useState<string | undefined>(undefined);
  useEffect(() => {
    let live = true;
    void import('../lib/qr-render.js').then(async ({ qrSvg }) => {
      const markup = await qrSvg(text);
      if (live) setSvg(markup);
    });
    return () => { live = false; };
  }, [text]);
  return (
    <div
      class={extra === undefined ? 'qr-code' : `qr-code ${extra}`}
      role="img"
      aria-label={label ?? t('common.qr_label', { text })}
      data-testid={testid}
      data-qr-text={text}
      style={{ width: `${size}px` }}
      // The markup comes from the QR library, built from our own text: no user HTML.
      dangerouslySetInnerHTML={svg === undefined ? undefined : { __html: svg }}
    />
  );
}
