/** Width maths for the views: every line a view returns is exactly the pane's width. */
import { truncate, visibleWidth } from '../ui/ansi.ts';

/** Cuts or pads `text` (which may hold escapes) to exactly `width` columns. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const cut = visibleWidth(text) > width ? truncate(text, width) : text;
  return cut + ' '.repeat(Math.max(0, width - visibleWidth(cut)));
}

/** Right-aligned in `width` columns (numbers). */
export function fitRight(text: string, width: number): string {
  const w = visibleWidth(text);
  return w >= width ? fit(text, width) : ' '.repeat(width - w) + text;
}

/** Centered in `width` columns. */
export function center(text: string, width: number): string {
  const w = visibleWidth(text);
  if (w >= width) return fit(text, width);
  const left = Math.floor((width - w) / 2);
  return fit(' '.repeat(left) + text, width);
}

export { visibleWidth };
