/**
 * How the TUI paints: colors unless NO_COLOR is set, Unicode block glyphs
 * when the locale says UTF-8, ASCII otherwise. Decided once from the
 * environment, so every view draws the same way.
 */
export type Style = 'bold' | 'dim' | 'inverse' | 'green' | 'red' | 'yellow' | 'cyan' | 'blue';

const SGR: Record<Style, [number, number]> = {
  bold: [1, 22],
  dim: [2, 22],
  inverse: [7, 27],
  green: [32, 39],
  red: [31, 39],
  yellow: [33, 39],
  cyan: [36, 39],
  blue: [34, 39],
};

export interface Glyphs {
  full: string;
  partial: string;
  empty: string;
  cursor: string;
  down: string;
  up: string;
  sortMark: string;
  folder: string;
  separator: string;
  ellipsis: string;
}

const UNICODE: Glyphs = {
  full: '█',
  partial: '▒',
  empty: '░',
  cursor: '▶',
  down: '↓',
  up: '↑',
  sortMark: '▼',
  folder: '▸',
  separator: '│',
  ellipsis: '…',
};

const ASCII: Glyphs = {
  full: '#',
  partial: '+',
  empty: '.',
  cursor: '>',
  down: 'v',
  up: '^',
  sortMark: '*',
  folder: '+',
  separator: '|',
  ellipsis: '~',
};

export interface Theme {
  color: boolean;
  unicode: boolean;
  glyphs: Glyphs;
  paint(style: Style, text: string): string;
}

export function makeTheme(options: { color: boolean; unicode: boolean }): Theme {
  return {
    ...options,
    glyphs: options.unicode ? UNICODE : ASCII,
    // Plain text when colors are off: no escape at all, not even bold (NO_COLOR users may pipe a capture).
    paint: (style, text) =>
      options.color && text ? `\u001b[${SGR[style][0]}m${text}\u001b[${SGR[style][1]}m` : text,
  };
}

/** NO_COLOR (any non-empty value, no-color.org) turns colors off; a UTF-8 locale turns Unicode on. */
export function themeFromEnv(env: NodeJS.ProcessEnv): Theme {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return makeTheme({
    color: !env.NO_COLOR && env.TERM !== 'dumb',
    unicode: /utf-?8/i.test(locale) && env.TERM !== 'linux',
  });
}
