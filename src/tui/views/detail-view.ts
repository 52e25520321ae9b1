/**
 * The detail pane of one torrent: two summary lines from the list's data (so
 * it shows on the very next frame), the tab bar, then the open tab, whose own
 * data arrives with the next poll.
 */
import { bar, eta, formatBytes, percent, rate, ratio, statusStyled } from '../format.ts';
import type { TuiState } from '../state.ts';
import { fit } from '../text.ts';
import type { Theme } from '../theme.ts';
import { DETAIL_TABS, type DetailTab } from '../types.ts';
import { fileRows, filesTab } from './files-tab.ts';
import { peersTab } from './peers-tab.ts';
import { piecesTab } from './pieces-tab.ts';
import { trackersTab } from './trackers-tab.ts';

const TAB_TITLES: Record<DetailTab, string> = {
  files: 'Files',
  peers: 'Peers',
  trackers: 'Trackers',
  pieces: 'Pieces',
};

/** The tab under screen column `column` of the tab bar (each title is as wide selected or not). */
export function tabAtColumn(column: number): DetailTab | undefined {
  let start = 1;
  for (const tab of DETAIL_TABS) {
    const width = TAB_TITLES[tab].length + 4;
    if (column >= start && column < start + width) return tab;
    start += width + 1;
  }
  return undefined;
}

/** Lines above the tab body. */
export const DETAIL_HEADER_ROWS = 3;

export function detailView(
  state: TuiState,
  width: number,
  height: number,
  theme: Theme,
  nowSeconds: number,
): string[] {
  const t = state.detail ? state.torrents.get(state.detail.id) : undefined;
  if (!t || !state.detail) return [fit('  (torrent gone)', width)];
  const { down, up, separator } = theme.glyphs;
  const lines = [
    fit(
      ` ${theme.paint('bold', t.name)}  ${statusStyled(t, theme)}${t.errorString ? `  ${theme.paint('red', t.errorString)}` : ''}`,
      width,
    ),
    fit(
      ` ${bar(t.percentDone, 20, theme)} ${percent(t.percentDone)} of ${formatBytes(t.sizeWhenDone)} ${separator} ${down} ${rate(t.rateDownload)} ${up} ${rate(t.rateUpload)} ${separator} ${t.peersConnected} peers ${separator} ratio ${ratio(t.uploadRatio)} ${separator} ETA ${eta(t.eta)} ${separator} id ${t.id}`,
      width,
    ),
    fit(
      ' ' +
        DETAIL_TABS.map((tab, i) => {
          const title = ` ${i + 1} ${TAB_TITLES[tab]} `;
          return tab === state.tab ? theme.paint('inverse', `[${title.trim()}]`) : title;
        }).join(' '),
      width,
    ),
  ];
  const bodyHeight = Math.max(1, height - DETAIL_HEADER_ROWS);
  const d = state.detail;
  const body =
    state.tab === 'files'
      ? filesTab(d.files, state.detailCursor, width, bodyHeight, theme)
      : state.tab === 'peers'
        ? peersTab(d.peers, state.detailCursor, width, bodyHeight, theme)
        : state.tab === 'trackers'
          ? trackersTab(d.trackers, state.detailCursor, width, bodyHeight, theme, nowSeconds)
          : piecesTab(d.pieces, width, bodyHeight, theme);
  lines.push(...body);
  while (lines.length < height) lines.push(' '.repeat(width));
  return lines.slice(0, height);
}

/** How many rows the open tab can move through (for the cursor and scrolling). */
export function detailRowCount(state: TuiState): number {
  const d = state.detail;
  if (!d) return 0;
  if (state.tab === 'files') return d.files ? fileRows(d.files).length : 0;
  if (state.tab === 'peers') return d.peers?.length ?? 0;
  if (state.tab === 'trackers') return d.trackers?.length ?? 0;
  return 0;
}
