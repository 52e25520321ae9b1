/**
 * The torrent list: a header row and one row per torrent, columns chosen to
 * fit the width (the name takes what is left), the selection kept in view.
 */
import {
  bar,
  eta,
  formatBytes,
  percent,
  rate,
  ratio,
  shortReason,
  statusStyled,
} from '../format.ts';
import { clampSelection, visibleTorrents, type SortKey, type TuiState } from '../state.ts';
import { fit, fitRight } from '../text.ts';
import type { Theme } from '../theme.ts';
import type { TuiTorrent } from '../types.ts';

interface Column {
  title: string;
  width: number;
  /** Lower is kept first when the terminal is narrow. */
  keep: number;
  right?: boolean;
  sort?: SortKey;
  cell(t: TuiTorrent, theme: Theme): string;
}

/**
 * The name column's least width: 18 at 80 columns (room for the six main
 * columns), growing with half of every column beyond, so a wider terminal
 * shows longer names before it shows more numbers.
 */
export function nameMinimum(width: number): number {
  return 18 + Math.max(0, Math.floor((width - 80) / 2));
}

function progressCell(t: TuiTorrent, theme: Theme): string {
  const verifying = t.status === 1 || t.status === 2;
  const fraction = verifying ? t.recheckProgress : t.percentDone;
  const cells = bar(fraction, 10, theme);
  const painted =
    fraction >= 1
      ? theme.paint('green', cells)
      : verifying
        ? theme.paint('yellow', cells)
        : theme.paint('cyan', cells);
  return `${painted} ${fitRight(percent(fraction), 4)}`;
}

const COLUMNS: Column[] = [
  { title: 'ID', width: 4, keep: 9, right: true, cell: (t) => String(t.id) },
  { title: 'Name', width: 0, keep: 0, sort: 'name', cell: (t) => t.name },
  { title: 'State', width: 11, keep: 1, cell: statusStyled },
  { title: 'Progress', width: 15, keep: 0, sort: 'progress', cell: progressCell },
  {
    title: 'Size',
    width: 9,
    keep: 2,
    right: true,
    sort: 'size',
    cell: (t) => formatBytes(t.sizeWhenDone),
  },
  {
    title: 'Down',
    width: 10,
    keep: 3,
    right: true,
    sort: 'down',
    cell: (t) => rate(t.rateDownload),
  },
  { title: 'Up', width: 10, keep: 4, right: true, sort: 'up', cell: (t) => rate(t.rateUpload) },
  { title: 'ETA', width: 7, keep: 5, right: true, sort: 'eta', cell: (t) => eta(t.eta) },
  { title: 'Peers', width: 5, keep: 7, right: true, cell: (t) => String(t.peersConnected) },
  {
    title: 'Ratio',
    width: 6,
    keep: 6,
    right: true,
    sort: 'ratio',
    cell: (t) => ratio(t.uploadRatio),
  },
  { title: "Down'd", width: 9, keep: 8, right: true, cell: (t) => formatBytes(t.downloadedEver) },
  { title: "Up'd", width: 9, keep: 8, right: true, cell: (t) => formatBytes(t.uploadedEver) },
];

/** The columns that fit `width` (a space between columns, 2 for the cursor), and the name's width. */
export function fitColumns(width: number): { columns: Column[]; nameWidth: number } {
  const chosen = new Set<Column>([COLUMNS[1]!]);
  const nameMin = nameMinimum(width);
  let used = 2 + nameMin;
  for (const column of [...COLUMNS].sort((a, b) => a.keep - b.keep)) {
    if (chosen.has(column)) continue;
    if (used + column.width + 1 > width) continue;
    chosen.add(column);
    used += column.width + 1;
  }
  return { columns: COLUMNS.filter((c) => chosen.has(c)), nameWidth: nameMin + width - used };
}

function row(cells: string[], columns: Column[], nameWidth: number): string {
  return cells
    .map((cell, i) => {
      const column = columns[i]!;
      const w = column.width || nameWidth;
      return column.right ? fitRight(cell, w) : fit(cell, w);
    })
    .join(' ');
}

/** Rows of the list body the view has room for (height minus the header). */
export function listPageSize(height: number): number {
  return Math.max(1, height - 1);
}

export function listView(state: TuiState, width: number, height: number, theme: Theme): string[] {
  const { columns, nameWidth } = fitColumns(width);
  const titles = columns.map((c) =>
    c.sort === state.sort
      ? `${c.title}${state.descending ? theme.glyphs.up : theme.glyphs.sortMark}`
      : c.title,
  );
  const lines = [theme.paint('inverse', fit(`  ${row(titles, columns, nameWidth)}`, width))];
  const visible = visibleTorrents(state);
  const selected = clampSelection(state, visible);
  const rows = listPageSize(height);
  // Scroll only as far as needed to keep the selection on screen.
  if (selected >= 0) {
    if (selected < state.listTop) state.listTop = selected;
    if (selected >= state.listTop + rows) state.listTop = selected - rows + 1;
  }
  state.listTop = Math.max(0, Math.min(state.listTop, Math.max(0, visible.length - rows)));
  if (!state.loaded)
    lines.push(
      fit(
        `  ${state.link === 'away' ? `cannot reach the daemon: ${shortReason(state.linkMessage)}` : 'connecting…'}`,
        width,
      ),
    );
  else if (visible.length === 0)
    lines.push(
      fit(
        state.torrents.size === 0
          ? '  no torrents: press a to add one'
          : '  no torrent matches the filter',
        width,
      ),
    );
  for (const t of visible.slice(state.listTop, state.listTop + rows)) {
    const isSelected = t.id === state.selectedId;
    const text = row(
      columns.map((c) => c.cell(t, theme)),
      columns,
      nameWidth,
    );
    const line = fit(`${isSelected ? theme.glyphs.cursor : ' '} ${text}`, width);
    lines.push(isSelected ? theme.paint('bold', line) : line);
  }
  while (lines.length < height) lines.push(' '.repeat(width));
  return lines.slice(0, height);
}
