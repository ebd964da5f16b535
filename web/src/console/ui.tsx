/**
 * Building blocks of the console: its extra icons, buttons that take them, a confirmation
 * dialog, labelled form fields, panels, amounts. Everything else comes from ../ui.
 */
import type { ButtonHTMLAttributes, ComponentChildren, JSX } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import { formatAmount, intlTag, t } from '../i18n/index.js';
import { Icon } from '../ui/Icon.js';
import type { IconName } from '../ui/Icon.js';

const circle = (cx: number, cy: number, r: number) => `M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;

/** Line icons the console needs beyond ui/Icon (same grid and stroke). */
const extra_icons = {
  plus: ['M12 5v14', 'M5 12h14'],
  print: ['M7 9V3h10v6', 'M6 18H4a1 1 0 0 1-1-1v-6a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2v6a1 1 0 0 1-1 1h-2', 'M7 14h10v7H7z'],
  edit: ['M4 20h4L19 9l-4-4L4 16z', 'M14 6l4 4'],
  download: ['M12 3v12', 'M7 10l5 5 5-5', 'M4 20h16'],
  book: ['M4 4h6a2 2 0 0 1 2 2v14a2 2 0 0 0-2-2H4z', 'M20 4h-6a2 2 0 0 0-2 2v14a2 2 0 0 1 2-2h6z'],
  search: [circle(11, 11, 6.5), 'M16 16l5 5'],
  qr: ['M4 4h6v6H4z', 'M14 4h6v6h-6z', 'M4 14h6v6H4z', 'M14 14h2v2h-2z', 'M18 18h2v2h-2z', 'M14 18h2', 'M18 14h2'],
  ban: [circle(12, 12, 9), 'M5.6 5.6l12.8 12.8'],
  unlock: ['M7 11h10a2 2 0 0 1 2 2v6a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2v-6a2 2 0 0 1 2-2z', 'M8 11V7a4 4 0 0 1 7.5-2'],
  play: ['M7 4l13 8-13 8z'],
  expand: ['M4 9V4h5', 'M20 9V4h-5', 'M4 15v5h5', 'M20 15v5h-5'],
  shield: ['M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z', 'M8.5 12l2.5 2.5 4.5-5'],
  'user-plus': [circle(9, 8, 3.5), 'M2 20a7 7 0 0 1 14 0', 'M19 8v6', 'M16 11h6'],
  key: [circle(8, 15, 4), 'M11 12l9-9', 'M17 6l3 3', 'M15 8l2 2'],
  settings: [circle(12, 12, 3), 'M12 2v3', 'M12 19v3', 'M2 12h3', 'M19 12h3', 'M4.9 4.9l2.1 2.1', 'M17 17l2.1 2.1', 'M4.9 19.1L7 17', 'M17 7l2.1-2.1'],
  send: ['M4 12h13', 'M12 5l7 7-7 7'],
  bank: ['M3 10l9-6 9 6', 'M5 10v8', 'M9.5 10v8', 'M14.5 10v8', 'M19 10v8', 'M3 21h18'],
  undo: ['M9 14L4 9l5-5', 'M4 9h11a5 5 0 0 1 0 10h-3'],
  list: ['M9 6h11', 'M9 12h11', 'M9 18h11', 'M4 6h.01', 'M4 12h.01', 'M4 18h.01'],
  report: ['M6 3h9l4 4v14H6z', 'M9 17v-3', 'M12 17v-6', 'M15 17v-4'],
  chart: ['M4 20V10', 'M10 20V4', 'M16 20v-7', 'M22 20H2'],
  calendar: ['M5 5h14a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z', 'M4 10h16', 'M8 3v4', 'M16 3v4'],
  tablet: ['M6 3h12a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1z', 'M11 18h2'],
} satisfies Record<string, string[]>;

export type ConsoleIconName = IconName | keyof typeof extra_icons;

export function CIcon({ name, size = 24, class: className }: { name: ConsoleIconName; size?: number; class?: string }) {
  if (!Object.hasOwn(extra_icons, name)) return <Icon name={name as IconName} size={size} class={className} />;
  return (
    <svg
      class={className === undefined ? 'icon' : `icon ${className}`}
      viewBox="0 0 24 24" width={size} height={size} aria-hidden="true" focusable="false"
      fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"
    >
      {extra_icons[name as keyof typeof extra_icons].map((d) => <path key={d} d={d} />)}
    </svg>
  );
}

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost';

interface BtnCommon {
  icon?: ConsoleIconName;
  variant?: Variant;
  small?: boolean;
  children: ComponentChildren;
  class?: string;
  'data-testid'?: string;
}

function btnClass({ variant = 'primary', small = false, class: extra }: BtnCommon): string {
  return ['btn', `btn-${variant}`, small ? 'btn-small' : '', extra ?? ''].filter(Boolean).join(' ');
}

/** A button with an icon next to its words (as ui/Button, with the console's icons). */
export function Btn(props: BtnCommon & Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'icon' | 'class' | 'children' | 'small'>) {
  const { icon, variant: _v, small: _s, children, class: _c, type = 'button', ...rest } = props;
  return (
    <button type={type} class={btnClass(props)} {...rest}>
      {icon !== undefined && <CIcon name={icon} />}
      <span>{children}</span>
    </button>
  );
}

export function BtnLink(props: BtnCommon & { href: string; onClick?: (event: MouseEvent) => void; 'aria-current'?: 'page' }) {
  const { icon, variant: _v, small: _s, children, class: _c, ...rest } = props;
  return (
    <a class={btnClass(props)} {...rest}>
      {icon !== undefined && <CIcon name={icon} />}
      <span>{children}</span>
    </a>
  );
}

/** A titled block of a screen. */
export function Panel({ title, icon, children, actions, testid, id }: {
  title: string; icon?: ConsoleIconName; children: ComponentChildren; actions?: ComponentChildren; testid?: string; id?: string;
}) {
  const heading = useId();
  return (
    <section class="panel" aria-labelledby={heading} data-testid={testid} id={id}>
      <div class="panel-head">
        <h2 id={heading}>
          {icon !== undefined && <CIcon name={icon} />}
          <span>{title}</span>
        </h2>
        {actions !== undefined && <div class="panel-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

/** A labelled input with an optional hint and error, tied together for screen readers. */
export function Field({ label, hint, error, children, required = false }: {
  label: string; hint?: string; error?: string; required?: boolean;
  children: (attrs: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean; required?: boolean }) => JSX.Element;
}) {
  const id = useId();
  const described = [hint !== undefined ? `${id}-hint` : '', error !== undefined ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>
        {label}
        {required && <span class="required" aria-hidden="true"> *</span>}
      </label>
      {children({ id, 'aria-describedby': described === '' ? undefined : described, 'aria-invalid': error !== undefined ? true : undefined, required: required || undefined })}
      {hint !== undefined && <p class="hint" id={`${id}-hint`}>{hint}</p>}
      {error !== undefined && <p class="field-error" id={`${id}-error`}>{error}</p>}
    </div>
  );
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Escape closes) asking to confirm an
 * action; `children` may hold more fields (e.g. a memo).
 */
export function ConfirmDialog({ open, title, children, confirmLabel, confirmIcon = 'check', danger = false, busy = false, onConfirm, onCancel, testid = 'confirm-dialog' }: {
  open: boolean; title: string; children?: ComponentChildren; confirmLabel: string; confirmIcon?: ConsoleIconName;
  danger?: boolean; busy?: boolean; onConfirm: () => void; onCancel: () => void; testid?: string;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const heading = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref} class="confirm-dialog" aria-labelledby={heading} data-testid={testid}
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
    >
      {open && (
        <form
          method="dialog"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            if (!busy) onConfirm();
          }}
        >
          <h2 id={heading}>
            <CIcon name={danger ? 'alert' : 'info'} />
            <span>{title}</span>
          </h2>
          {children}
          <div class="dialog-actions">
            <Btn variant="secondary" icon="x" onClick={onCancel} disabled={busy} data-testid="confirm-cancel">{t('common.cancel')}</Btn>
            <Btn type="submit" variant={danger ? 'danger' : 'primary'} icon={confirmIcon} disabled={busy} data-testid="confirm-ok">{confirmLabel}</Btn>
          </div>
        </form>
      )}
    </dialog>
  );
}

/** An amount of coins, with `data-amount` for tests. */
export function Amount({ value, currency, signed = false, testid }: { value: string; currency: string; signed?: boolean; testid?: string }) {
  const negative = value.trim().startsWith('-');
  return (
    <span class={`amount ${signed ? (negative ? 'amount-out' : 'amount-in') : ''}`} data-amount={value} data-testid={testid}>
      {formatAmount(value, currency, { signed })}
    </span>
  );
}

/** Euros from a decimal string ("12.30" → "€ 12,30" in nl-BE). */
export function formatEuro(value: string): string {
  return new Intl.NumberFormat(intlTag.value, { style: 'currency', currency: 'EUR' }).format(value as unknown as number);
}

/**
 * An account's name as the console shows it. The issuance account's stored name is the service's
 * ("Torekes — issuance"), so it is named by its kind in the console's language ("Uitgifte").
 */
export function accountName(account: { name: string; kind: string }): string {
  return account.kind === 'issuance' ? t('console.kind_issuance') : account.name;
}

/** A short id for tables: the first 8 characters, the whole id in a tooltip and for screen readers. */
export function ShortId({ id }: { id: string }) {
  return <code class="short-id" title={id}>{id.slice(0, 8)}</code>;
}

/** A status as a coloured label with an icon (never colour alone). */
export function StatusTag({ kind, icon, children, testid }: { kind: 'ok' | 'warn' | 'bad' | 'neutral'; icon?: ConsoleIconName; children: ComponentChildren; testid?: string }) {
  return (
    <span class={`tag tag-${kind}`} data-testid={testid}>
      <CIcon name={icon ?? (kind === 'ok' ? 'check' : kind === 'bad' ? 'ban' : kind === 'warn' ? 'alert' : 'info')} size={18} />
      <span>{children}</span>
    </span>
  );
}
