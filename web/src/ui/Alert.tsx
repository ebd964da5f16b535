import type { ComponentChildren } from 'preact';
import { Icon } from './Icon.js';
import type { IconName } from './Icon.js';

type Kind = 'error' | 'warning' | 'info' | 'success';
const kind_icons: Record<Kind, IconName> = { error: 'alert', warning: 'alert', info: 'info', success: 'check' };

/** A message box with an icon; errors and warnings are announced to screen readers at once. */
export function Alert({ kind, title, children, icon, 'data-testid': testid }: {
  kind: Kind; title?: string; children?: ComponentChildren; icon?: IconName; 'data-testid'?: string;
}) {
  return (
    <div class={`alert alert-${kind}`} role={kind === 'error' || kind === 'warning' ? 'alert' : 'status'} data-testid={testid}>
      <Icon name={icon ?? kind_icons[kind]} size={28} />
      <div>
        {title !== undefined && <p class="alert-title">{title}</p>}
        {children !== undefined && <div class="alert-body">{children}</div>}
      </div>
    </div>
  );
}
