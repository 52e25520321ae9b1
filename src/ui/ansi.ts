/**
 * The few terminal escapes the live views use, and width maths that ignores
 * them. Only the TTY renderers call these; plain mode never writes an escape.
 */
import { styleText } from 'node:util';

// CSI sequences (colors, cursor moves, erases) and OSC sequences: zero width on screen.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ESCAPES, '');
}

/** Columns a string takes: escapes count 0, every other code point 1 (the views print no wide glyphs). */
export function visibleWidth(text: string): number {
  let width = 0;
  for (const _ of stripAnsi(text)) width++;
  return width;
}

/**
 * Cuts `text` to at most `width` visible columns, keeping escapes (so colors
 * stay balanced: a reset is appended when anything was cut after a color).
 */
export function truncate(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  let last = 0;
  let sawEscape = false;
  const limit = Math.max(0, width - 1);
  for (const match of text.matchAll(ESCAPES)) {
    const plain = text.slice(last, match.index);
    for (const ch of plain) {
      if (used >= limit) break;
      out += ch;
      used++;
    }
    out += match[0];
    sawEscape = true;
    last = match.index + match[0].length;
  }
  for (const ch of text.slice(last)) {
    if (used >= limit) break;
    out += ch;
    used++;
  }
  return `${out}${width > 0 ? '…' : ''}${sawEscape ? RESET : ''}`;
}

export const RESET = '\u001b[0m';
export const HIDE_CURSOR = '\u001b[?25l';
export const SHOW_CURSOR = '\u001b[?25h';
export const ERASE_DOWN = '\u001b[J';
export const ERASE_LINE = '\u001b[2K';
export const cursorUp = (rows: number) => (rows > 0 ? `\u001b[${rows}A` : '');

export type Color = 'green' | 'red' | 'yellow' | 'cyan' | 'dim';

/**
 * Colors text for the live view. The caller decides (tty mode only: NO_COLOR and
 * TERM=dumb already chose plain mode), so output does not depend on the stream.
 */
export function paint(color: Color, text: string, enabled = true): string {
  return enabled ? styleText(color, text, { validateStream: false }) : text;
}
