/**
 * Line icons drawn for Wijkmunt (24×24, stroke = currentColor). Always next to a word, never
 * alone without an accessible name: the icon itself is hidden from screen readers.
 */
const circle = (cx: number, cy: number, r: number) => `M${cx - r} ${cy}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0`;

const icons = {
  alert: ['M12 3 2 21h20L12 3z', 'M12 10v5', 'M12 18h.01'],
  'arrow-in': ['M17 7 7 17', 'M7 9v8h8'],
  'arrow-out': ['M7 17 17 7', 'M9 7h8v8'],
  back: ['M19 12H5', 'M12 19l-7-7 7-7'],
  backspace: ['M9 5h11a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1H9l-6-7z', 'M12 9l6 6', 'M18 9l-6 6'],
  camera: ['M4 8h3l2-3h6l2 3h3a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1z', circle(12, 13, 3.5)],
  'camera-off': ['M2 2l20 20', 'M9 5h6l2 3h3a1 1 0 0 1 1 1v9', 'M18 20H4a1 1 0 0 1-1-1V9a1 1 0 0 1 1-1h3', 'M9.5 10.5a3.5 3.5 0 0 0 4.9 4.9'],
  card: ['M4 5h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2z', 'M6 9h4v4H6z', 'M13 10h5', 'M13 14h5'],
  check: ['M5 12l5 5L20 7'],
  clock: [circle(12, 12, 9), 'M12 7v5l3 2'],
  coins: [circle(12, 12, 9), circle(12, 12, 5)],
  globe: [circle(12, 12, 9), 'M3 12h18', 'M12 3c3 3.5 3 14.5 0 18', 'M12 3c-3 3.5-3 14.5 0 18'],
  home: ['M3 11l9-8 9 8', 'M5 10v10h14V10'],
  info: [circle(12, 12, 9), 'M12 11v6', 'M12 7.5h.01'],
  keyboard: ['M4 6h16a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2z', 'M6 10h.01', 'M10 10h.01', 'M14 10h.01', 'M18 10h.01', 'M7 14h10'],
  lock: ['M7 11h10a2 2 0 0 1 2 2v6a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2v-6a2 2 0 0 1 2-2z', 'M8 11V7a4 4 0 0 1 8 0v4'],
  logout: ['M10 4H5a1 1 0 0 0-1 1v14a1 1 0 0 0 1 1h5', 'M15 8l4 4-4 4', 'M19 12H9'],
  people: [circle(9, 8, 3), 'M3 20a6 6 0 0 1 12 0', circle(17, 9, 2.5), 'M15.5 14.2A5 5 0 0 1 21 19'],
  refresh: ['M20 11a8 8 0 1 0-2.3 5.7', 'M20 4v7h-7'],
  scan: ['M4 8V5a1 1 0 0 1 1-1h3', 'M16 4h3a1 1 0 0 1 1 1v3', 'M20 16v3a1 1 0 0 1-1 1h-3', 'M8 20H5a1 1 0 0 1-1-1v-3', 'M7 12h10'],
  shop: ['M4 10v10h16V10', 'M3 10l2-6h14l2 6z', 'M10 20v-5h4v5'],
  star: ['M12 2l2.9 6.3 6.9.8-5.1 4.7 1.4 6.8L12 17.3l-6.1 3.3 1.4-6.8-5.1-4.7 6.9-.8z'],
  wallet: ['M4 7h14a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h11', 'M16 13.5h.01'],
  'wifi-off': ['M2 2l20 20', 'M8.5 16.5a5 5 0 0 1 7 0', 'M5 12.5a10 10 0 0 1 5-2.7', 'M19 12.5a10 10 0 0 0-2.5-1.8', 'M2 8.8a15 15 0 0 1 4.2-2.6', 'M12 20h.01'],
  x: ['M6 6l12 12', 'M18 6L6 18'],
} satisfies Record<string, string[]>;

export type IconName = keyof typeof icons;

export function Icon({ name, size = 24, class: className }: { name: IconName; size?: number; class?: string }) {
  return (
    <svg
      class={className === undefined ? 'icon' : `icon ${className}`}
      viewBox="0 0 24 24" width={size} height={size} aria-hidden="true" focusable="false"
      fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"
    >
      {icons[name].map((d) => <path key={d} d={d} />)}
    </svg>
  );
}
