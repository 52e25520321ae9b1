/** The `?` overlay: every key from the key map, in a box over the middle of the screen. */
import { BINDINGS } from '../keymap.ts';
import { fit } from '../text.ts';
import type { Theme } from '../theme.ts';

export function helpLines(theme: Theme): string[] {
  const where = { list: 'list', detail: 'details', both: '' };
  const keys = BINDINGS.map((b) => {
    const label = theme.unicode ? b.label : b.label.replace('↓', 'Down').replace('↑', 'Up');
    return `${fit(label, 8)} ${b.help}${where[b.in] ? theme.paint('dim', ` (${where[b.in]})`) : ''}`;
  });
  return [...keys, `${fit('mouse', 8)} click selects (twice opens), wheel`];
}

/** Draws the help box over `base` (the screen's lines), in two columns when it would not fit in one. */
export function overlayHelp(base: string[], width: number, theme: Theme): string[] {
  const entries = helpLines(theme);
  const rowsAvailable = Math.max(3, base.length - 4);
  const columns = entries.length > rowsAvailable ? 2 : 1;
  const perColumn = Math.ceil(entries.length / columns);
  const columnWidth = 46;
  const boxWidth = Math.min(width - 2, columns * columnWidth + 4);
  const inner = boxWidth - 4;
  const body: string[] = [];
  for (let r = 0; r < perColumn; r++) {
    let line = '';
    for (let c = 0; c < columns; c++)
      line += fit(entries[c * perColumn + r] ?? '', Math.floor(inner / columns));
    body.push(line);
  }
  const title = ' Keys (? or Esc closes) ';
  const horizontal = theme.unicode ? '─' : '-';
  const vertical = theme.unicode ? '│' : '|';
  const [tl, tr, bl, br] = theme.unicode ? ['┌', '┐', '└', '┘'] : ['+', '+', '+', '+'];
  const box = [
    `${tl}${horizontal.repeat(2)}${title}${horizontal.repeat(Math.max(0, boxWidth - 4 - title.length))}${tr}`,
    ...body.map((line) => `${vertical} ${fit(line, inner)} ${vertical}`),
    `${bl}${horizontal.repeat(boxWidth - 2)}${br}`,
  ];
  const top = Math.max(0, Math.floor((base.length - box.length) / 2));
  const left = Math.max(0, Math.floor((width - boxWidth) / 2));
  const out = [...base];
  for (const [i, line] of box.entries()) {
    if (top + i >= out.length) break;
    out[top + i] = fit(' '.repeat(left) + line, width);
  }
  return out;
}
