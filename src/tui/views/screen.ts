/**
 * The whole screen as lines, from the state: the list or the detail pane,
 * the help overlay over it, the two bottom lines. Below 80x24 it is one
 * message instead (no half-drawn columns).
 */
import type { TuiState } from '../state.ts';
import { center, fit } from '../text.ts';
import type { Theme } from '../theme.ts';
import { bottomLine, statusBar } from './bars.ts';
import { detailView } from './detail-view.ts';
import { overlayHelp } from './help-view.ts';
import { listView } from './list-view.ts';

export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

export function renderScreen(
  state: TuiState,
  width: number,
  height: number,
  theme: Theme,
  nowSeconds: number,
): string[] {
  if (width < MIN_COLUMNS || height < MIN_ROWS) return tooSmall(width, height);
  const bodyHeight = height - 2;
  let body =
    state.view === 'detail'
      ? detailView(state, width, bodyHeight, theme, nowSeconds)
      : listView(state, width, bodyHeight, theme);
  if (state.overlay.kind === 'help') body = overlayHelp(body, width, theme);
  return [...body, statusBar(state, width, theme), bottomLine(state, width, theme)];
}

function tooSmall(width: number, height: number): string[] {
  const lines = Array.from({ length: Math.max(1, height) }, () => ' '.repeat(Math.max(0, width)));
  const message = [
    `Terminal too small: ${width}x${height}`,
    `shoal tui needs at least ${MIN_COLUMNS}x${MIN_ROWS}.`,
    'Enlarge the window, or press q to quit.',
  ];
  const top = Math.max(0, Math.floor((height - message.length) / 2));
  for (const [i, text] of message.entries()) {
    if (top + i < lines.length)
      lines[top + i] = width >= text.length ? center(text, width) : fit(text, width);
  }
  return lines;
}
