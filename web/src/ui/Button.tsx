import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import { Icon } from './Icon.js';
import type { IconName } from './Icon.js';

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost';

interface Common {
  icon?: IconName;
  variant?: Variant;
  /** Full width and taller: the main action of a phone screen. */
  big?: boolean;
  children: ComponentChildren;
  class?: string;
  'data-testid'?: string;
}

function classes({ variant = 'primary', big = false, class: extra }: Common): string {
  return ['btn', `btn-${variant}`, big ? 'btn-big' : '', extra ?? ''].filter(Boolean).join(' ');
}

/** A button with an icon next to its words (≥ 48 px high). */
export function Button(props: Common & Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'icon' | 'class' | 'children'>) {
  const { icon, variant: _v, big: _b, children, class: _c, type = 'button', ...rest } = props;
  return (
    <button type={type} class={classes(props)} {...rest}>
      {icon !== undefined && <Icon name={icon} />}
      <span>{children}</span>
    </button>
  );
}

/** A link that looks like a Button: for going to another screen. */
export function LinkButton(props: Common & { href: string; onClick?: (event: MouseEvent) => void }) {
  const { icon, variant: _v, big: _b, children, class: _c, ...rest } = props;
  return (
    <a class={classes(props)} {...rest}>
      {icon !== undefined && <Icon name={icon} />}
      <span>{children}</span>
    </a>
  );
}
