/**
 * The two bottom lines: the status bar (global rates, counts, free space,
 * the daemon's address and whether it answers) and below it the help bar,
 * which an open prompt, a confirmation or the last action's message replaces.
 */
import { formatBytes, rate, shortReason } from '../format.ts';
import { visibleTorrents, type TuiState } from '../state.ts';
import { fit } from '../text.ts';
import type { Theme } from '../theme.ts';

export function statusBar(state: TuiState, width: number, theme: Theme): string {
  let down = 0;
  let up = 0;
  for (const t of state.torrents.values()) {
    down += t.rateDownload;
    up += t.rateUpload;
  }
  const { separator } = theme.glyphs;
  const shown = visibleTorrents(state).length;
  const count =
    shown === state.torrents.size
      ? `${shown} torrents`
      : `${shown} of ${state.torrents.size} torrents`;
  const filters = [
    state.nameFilter ? `name~"${state.nameFilter}"` : '',
    state.stateFilter !== 'all' ? state.stateFilter : '',
  ].filter(Boolean);
  // The link first: a narrow terminal cuts the end of the line, and "away" must never be cut.
  const parts = [
    `${state.address} ${linkMark(state, theme)}`,
    `${theme.glyphs.down} ${rate(down)} ${theme.glyphs.up} ${rate(up)}`,
    count,
    `sort ${state.sort}${state.descending ? ' (rev)' : ''}`,
    ...(filters.length ? [`filter ${filters.join(' ')}`] : []),
    ...(state.session && state.session.freeSpace >= 0
      ? [`free ${formatBytes(state.session.freeSpace)}`]
      : []),
  ];
  return theme.paint('inverse', fit(` ${parts.join(` ${separator} `)}`, width));
}

function linkMark(state: TuiState, theme: Theme): string {
  switch (state.link) {
    case 'ok':
      return 'ok';
    case 'connecting':
      return 'connecting…';
    case 'busy':
      return theme.color ? theme.paint('yellow', 'BUSY') : 'BUSY (slow answer)';
    case 'away':
      return `${theme.paint('red', 'AWAY')} reconnecting${state.linkMessage ? `: ${shortReason(state.linkMessage)}` : ''}`;
  }
}

const MAIN_KEYS_LIST =
  '? help  Enter details  p pause/resume  a add  r remove  l limits  / filter  f state  s sort  q quit';
const MAIN_KEYS_DETAIL =
  '? help  Esc back  Tab/1-4 tabs  Space want/skip  +/- priority  p pause/resume  v verify  q quit';

export function bottomLine(state: TuiState, width: number, theme: Theme): string {
  const o = state.overlay;
  if (o.kind === 'input') {
    const prompts = {
      add: 'Add (magnet link, URL or .torrent path): ',
      filter: 'Filter by name: ',
      limits: 'Limits "down,up" per second (e.g. 2MiB,500KiB; empty = none): ',
    };
    return fit(
      `${theme.paint('bold', prompts[o.purpose])}${o.text}${theme.unicode ? '█' : '_'}`,
      width,
    );
  }
  if (o.kind === 'confirm-remove') {
    return fit(
      theme.paint(
        'yellow',
        `Remove "${o.name}"? y = remove (keep data)  D = remove AND delete data  n/Esc = cancel`,
      ),
      width,
    );
  }
  if (state.message) {
    return fit(
      state.message.error ? theme.paint('red', state.message.text) : state.message.text,
      width,
    );
  }
  return theme.paint(
    'dim',
    fit(state.view === 'detail' ? MAIN_KEYS_DETAIL : MAIN_KEYS_LIST, width),
  );
}
