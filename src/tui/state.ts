/**
 * Everything the screen shows, in one object the views read and the app
 * changes: torrents by id (merged from full and recently-active polls), the
 * selection (by id, so it survives re-sorting), sort and filters, the open
 * detail pane, overlays, and the link to the daemon.
 */
import type { DetailTab, ListUpdate, SessionInfo, TuiDetail, TuiTorrent } from './types.ts';

export const SORT_KEYS = [
  'name',
  'progress',
  'size',
  'down',
  'up',
  'ratio',
  'eta',
  'added',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export const STATE_FILTERS = [
  'all',
  'downloading',
  'seeding',
  'paused',
  'active',
  'error',
] as const;
export type StateFilter = (typeof STATE_FILTERS)[number];

export type Overlay =
  | { kind: 'none' }
  | { kind: 'help' }
  | { kind: 'input'; purpose: 'add' | 'filter' | 'limits'; text: string; targetId?: number }
  | { kind: 'confirm-remove'; id: number; name: string };

/** connecting: no answer yet; ok; busy: a call is taking long; away: the last call failed. */
export type LinkState = 'connecting' | 'ok' | 'busy' | 'away';

export interface TuiState {
  torrents: Map<number, TuiTorrent>;
  /** A full list arrived at least once (before that the list says "connecting"). */
  loaded: boolean;
  session?: SessionInfo;
  sort: SortKey;
  descending: boolean;
  nameFilter: string;
  stateFilter: StateFilter;
  selectedId?: number;
  /** First visible row of the list (scrolling keeps the selection in view). */
  listTop: number;
  view: 'list' | 'detail';
  tab: DetailTab;
  detail?: TuiDetail;
  /** Row of the cursor in the detail pane (files), or its scroll offset (peers, trackers). */
  detailCursor: number;
  overlay: Overlay;
  link: LinkState;
  linkMessage: string;
  /** One line for the last action's outcome; errors in red. */
  message?: { text: string; error: boolean };
  /** The source's address, for the status bar. */
  address: string;
}

export function initialState(address: string): TuiState {
  return {
    torrents: new Map(),
    loaded: false,
    sort: 'name',
    descending: false,
    nameFilter: '',
    stateFilter: 'all',
    listTop: 0,
    view: 'list',
    tab: 'files',
    detailCursor: 0,
    overlay: { kind: 'none' },
    link: 'connecting',
    linkMessage: '',
    address,
  };
}

/** Merges one poll; returns whether anything on screen may have changed. */
export function applyListUpdate(state: TuiState, update: ListUpdate): boolean {
  let changed = !state.loaded && update.full;
  if (update.full) {
    const seen = new Set(update.torrents.map((t) => t.id));
    for (const id of state.torrents.keys()) {
      if (!seen.has(id)) {
        state.torrents.delete(id);
        changed = true;
      }
    }
    state.loaded = true;
  }
  for (const id of update.removed) changed = state.torrents.delete(id) || changed;
  for (const torrent of update.torrents) {
    const before = state.torrents.get(torrent.id);
    if (!before || !sameTorrent(before, torrent)) {
      state.torrents.set(torrent.id, torrent);
      changed = true;
    }
  }
  if (state.view === 'detail' && state.detail && !state.torrents.has(state.detail.id)) {
    state.view = 'list';
    state.detail = undefined;
    changed = true;
  }
  return changed;
}

function sameTorrent(a: TuiTorrent, b: TuiTorrent): boolean {
  for (const key of Object.keys(b) as (keyof TuiTorrent)[]) if (a[key] !== b[key]) return false;
  return true;
}

function matchesState(t: TuiTorrent, filter: StateFilter): boolean {
  switch (filter) {
    case 'all':
      return true;
    case 'downloading':
      return t.status === 3 || t.status === 4;
    case 'seeding':
      return t.status === 5 || t.status === 6;
    case 'paused':
      return t.status === 0;
    case 'active':
      return t.rateDownload > 0 || t.rateUpload > 0 || t.status === 2;
    case 'error':
      return t.error !== 0;
  }
}

const SORTERS: Record<SortKey, (a: TuiTorrent, b: TuiTorrent) => number> = {
  name: (a, b) => a.name.localeCompare(b.name),
  progress: (a, b) => a.percentDone - b.percentDone,
  size: (a, b) => a.sizeWhenDone - b.sizeWhenDone,
  // Fastest first reads better for rates: the reverse key flips these too.
  down: (a, b) => b.rateDownload - a.rateDownload,
  up: (a, b) => b.rateUpload - a.rateUpload,
  ratio: (a, b) => a.uploadRatio - b.uploadRatio,
  eta: (a, b) => etaRank(a) - etaRank(b),
  added: (a, b) => a.addedDate - b.addedDate,
};

/** Unknown ETAs last. */
function etaRank(t: TuiTorrent): number {
  return t.eta >= 0 ? t.eta : Number.MAX_SAFE_INTEGER;
}

/** The list as shown: filtered by name and state, sorted (ties by id, so rows never jump). */
export function visibleTorrents(state: TuiState): TuiTorrent[] {
  const needle = state.nameFilter.toLowerCase();
  const sorter = SORTERS[state.sort];
  const direction = state.descending ? -1 : 1;
  return [...state.torrents.values()]
    .filter(
      (t) =>
        (!needle || t.name.toLowerCase().includes(needle)) && matchesState(t, state.stateFilter),
    )
    .sort((a, b) => direction * sorter(a, b) || a.id - b.id);
}

/** Keeps the selection on a visible torrent (the first, when the selected one went away). */
export function clampSelection(state: TuiState, visible: TuiTorrent[]): number {
  if (visible.length === 0) {
    state.selectedId = undefined;
    return -1;
  }
  const index = visible.findIndex((t) => t.id === state.selectedId);
  if (index >= 0) return index;
  state.selectedId = visible[0]!.id;
  return 0;
}

/** Moves the selection by `delta` rows (clamped), or to an absolute row when `to` is given. */
export function moveSelection(state: TuiState, delta: number, to?: number): void {
  const visible = visibleTorrents(state);
  const current = clampSelection(state, visible);
  if (current < 0) return;
  const next = Math.max(0, Math.min(visible.length - 1, to ?? current + delta));
  state.selectedId = visible[next]!.id;
}

export function cycle<T>(values: readonly T[], current: T): T {
  return values[(values.indexOf(current) + 1) % values.length]!;
}
