/**
 * The TUI's controller: turns keys into state changes and source calls, the
 * poller's answers into state, and the state into frames. Keys are handled
 * and drawn at once; every call to the source runs in the background and only
 * its outcome (a message, fresh data) is drawn when it lands, so the screen
 * never waits on the daemon.
 *
 * It knows nothing of the real terminal: `screen` gives the size and takes
 * the output, so tests drive it with strings (run.ts plugs in the terminal).
 */
import { actionFor, type Action } from './keymap.ts';
import { parseKeys, type Key } from './keys.ts';
import { oneLine, Poller } from './poller.ts';
import { Renderer } from './renderer.ts';
import {
  applyListUpdate,
  cycle,
  initialState,
  moveSelection,
  SORT_KEYS,
  STATE_FILTERS,
  visibleTorrents,
  type TuiState,
} from './state.ts';
import type { Theme } from './theme.ts';
import { DETAIL_TABS, type Limits, type TuiSource } from './types.ts';
import { DETAIL_HEADER_ROWS, detailRowCount, tabAtColumn } from './views/detail-view.ts';
import { fileRows, filesTop } from './views/files-tab.ts';
import { listPageSize } from './views/list-view.ts';
import { renderScreen } from './views/screen.ts';

export interface TuiScreen {
  size(): { columns: number; rows: number };
  write(text: string): void;
}

export interface TuiAppOptions {
  source: TuiSource;
  screen: TuiScreen;
  theme: Theme;
  intervalMs: number;
  /** Reads "2MiB"-style sizes for the limits prompt; throws with a one-line message. */
  parseSize: (text: string) => number;
  /** Clock for relative times (tests fix it). */
  now?: () => number;
}

export class TuiApp {
  readonly state: TuiState;
  readonly #options: TuiAppOptions;
  readonly #poller: Poller;
  readonly #renderer: Renderer;
  #renderQueued = false;
  #messageTimer: NodeJS.Timeout | undefined;
  #quit!: () => void;
  /** Resolves when the user quits. */
  readonly done: Promise<void>;

  constructor(options: TuiAppOptions) {
    this.#options = options;
    this.state = initialState(options.source.address);
    this.#renderer = new Renderer((text) => options.screen.write(text));
    this.done = new Promise((resolve) => (this.#quit = resolve));
    this.#poller = new Poller(
      options.source,
      {
        list: (update) => {
          if (applyListUpdate(this.state, update)) this.#changed();
          if (this.state.view === 'list') this.#poller.watchDetail(undefined);
        },
        detail: (detail) => {
          this.state.detail = { ...detail };
          this.#changed();
        },
        session: (info) => {
          this.state.session = info;
          this.#changed();
        },
        link: (link, message) => {
          if (this.state.link === link && this.state.linkMessage === message) return;
          // Busy only replaces ok: a failing daemon stays "away" until it answers.
          if (link === 'busy' && this.state.link === 'away') return;
          this.state.link = link;
          this.state.linkMessage = message;
          this.#changed();
        },
      },
      options.intervalMs,
    );
  }

  start(): void {
    this.#poller.start();
    this.render();
  }

  stop(): void {
    this.#poller.stop();
    clearTimeout(this.#messageTimer);
  }

  /** A message from the program itself (a warning, "complete"), shown like an action's outcome. */
  notify(text: string, error = false): void {
    this.#flash(text, error);
  }

  /** Raw terminal input. */
  input(data: string): void {
    for (const key of parseKeys(data)) this.#key(key);
    this.render();
  }

  /** The terminal changed size: draw everything again. */
  resize(): void {
    this.#renderer.invalidate();
    this.render();
  }

  /** Draws now (only the lines that changed). */
  render(): void {
    this.#renderQueued = false;
    const { columns, rows } = this.#options.screen.size();
    const now = Math.floor((this.#options.now?.() ?? Date.now()) / 1000);
    this.#renderer.draw(renderScreen(this.state, columns, rows, this.#options.theme, now));
  }

  /** Coalesces changes from several answers into one frame. */
  #changed(): void {
    if (this.#renderQueued) return;
    this.#renderQueued = true;
    setImmediate(() => {
      if (this.#renderQueued) this.render();
    });
  }

  #key(key: Key): void {
    const overlay = this.state.overlay;
    if (key.name === 'ctrl-c') return this.#quit();
    if (overlay.kind === 'help') {
      if (['?', 'escape', 'q', 'enter'].includes(key.name)) this.state.overlay = { kind: 'none' };
      return;
    }
    if (overlay.kind === 'confirm-remove') {
      if (key.name === 'y' || key.name === 'D') {
        const deleteData = key.name === 'D';
        this.state.overlay = { kind: 'none' };
        this.#act(`removing "${overlay.name}"${deleteData ? ' and its data' : ''}`, () =>
          this.#options.source.remove([overlay.id], deleteData),
        );
      } else if (['n', 'N', 'escape', 'q'].includes(key.name)) {
        this.state.overlay = { kind: 'none' };
        this.#flash('remove cancelled');
      }
      return;
    }
    if (overlay.kind === 'input') return this.#typing(overlay, key);
    this.state.message = undefined;
    if (key.name === 'wheelup' || key.name === 'wheeldown')
      return this.#move(key.name === 'wheelup' ? 'up' : 'down');
    if (key.name === 'click') return this.#click(key.column ?? 0, key.row ?? 0);
    const action = actionFor(key.name, this.state.view);
    if (action) this.#do(action);
  }

  #typing(overlay: Extract<TuiState['overlay'], { kind: 'input' }>, key: Key): void {
    if (key.name === 'escape') {
      if (overlay.purpose === 'filter') this.state.nameFilter = '';
      this.state.overlay = { kind: 'none' };
      return;
    }
    if (key.name === 'enter') {
      this.state.overlay = { kind: 'none' };
      this.#submit(overlay);
      return;
    }
    if (key.name === 'backspace') overlay.text = [...overlay.text].slice(0, -1).join('');
    else if (key.name === 'ctrl-u') overlay.text = '';
    else if (key.char) overlay.text += key.char;
    // The name filter applies as you type.
    if (overlay.purpose === 'filter') this.state.nameFilter = overlay.text;
  }

  #submit(overlay: Extract<TuiState['overlay'], { kind: 'input' }>): void {
    const text = overlay.text.trim();
    if (overlay.purpose === 'filter') {
      this.state.nameFilter = text;
      this.state.listTop = 0;
    } else if (overlay.purpose === 'add') {
      if (text) this.#act(`adding ${text}`, () => this.#options.source.add(text), true);
    } else if (overlay.targetId !== undefined) {
      let limits: Limits;
      try {
        limits = this.#parseLimits(text);
      } catch (error) {
        this.#flash(oneLine(error), true);
        return;
      }
      const id = overlay.targetId;
      this.#act('setting limits', () => this.#options.source.setLimits(id, limits));
    }
  }

  /** "2MiB,500KiB": down then up; an empty or "none" side is unlimited. */
  #parseLimits(text: string): Limits {
    const [down = '', up = ''] = text.split(',').map((part) => part.trim());
    const one = (part: string) =>
      part === '' || part === 'none' ? undefined : this.#options.parseSize(part);
    return { download: one(down), upload: one(up) };
  }

  #pageSize(): number {
    const rows = this.#options.screen.size().rows - 2;
    return this.state.view === 'list'
      ? listPageSize(rows)
      : Math.max(1, rows - DETAIL_HEADER_ROWS - 1);
  }

  #do(action: Action): void {
    const state = this.state;
    const selected = state.view === 'detail' ? state.detail?.id : state.selectedId;
    const torrent = selected === undefined ? undefined : state.torrents.get(selected);
    switch (action) {
      case 'quit':
        return this.#quit();
      case 'help':
        state.overlay = { kind: 'help' };
        return;
      case 'redraw':
        return this.#renderer.invalidate();
      case 'down':
      case 'up':
      case 'pageDown':
      case 'pageUp':
      case 'home':
      case 'end':
        return this.#move(action);
      case 'open':
        if (!torrent) return;
        state.view = 'detail';
        state.detail = { id: torrent.id };
        state.detailCursor = 0;
        this.#poller.watchDetail({ id: torrent.id, tab: state.tab });
        return;
      case 'back':
        state.view = 'list';
        state.detail = undefined;
        this.#poller.watchDetail(undefined);
        return;
      case 'nextTab':
      case 'prevTab':
      case 'tab1':
      case 'tab2':
      case 'tab3':
      case 'tab4': {
        const index = DETAIL_TABS.indexOf(state.tab);
        const next =
          action === 'nextTab'
            ? (index + 1) % DETAIL_TABS.length
            : action === 'prevTab'
              ? (index + DETAIL_TABS.length - 1) % DETAIL_TABS.length
              : Number(action.slice(3)) - 1;
        return this.#openTab(DETAIL_TABS[next]!);
      }
      case 'toggleWanted':
      case 'priorityUp':
      case 'priorityDown':
        return this.#fileAction(action);
      case 'pause':
        if (!torrent) return;
        if (torrent.status === 0)
          this.#act(`resuming "${torrent.name}"`, () => this.#options.source.start([torrent.id]));
        else this.#act(`pausing "${torrent.name}"`, () => this.#options.source.stop([torrent.id]));
        return;
      case 'verify':
        if (torrent)
          this.#act(`verifying "${torrent.name}"`, () => this.#options.source.verify([torrent.id]));
        return;
      case 'remove':
        if (torrent) state.overlay = { kind: 'confirm-remove', id: torrent.id, name: torrent.name };
        return;
      case 'limits':
        if (torrent)
          state.overlay = { kind: 'input', purpose: 'limits', text: '', targetId: torrent.id };
        return;
      case 'add':
        state.overlay = { kind: 'input', purpose: 'add', text: '' };
        return;
      case 'filter':
        state.overlay = { kind: 'input', purpose: 'filter', text: state.nameFilter };
        return;
      case 'stateFilter':
        state.stateFilter = cycle(STATE_FILTERS, state.stateFilter);
        state.listTop = 0;
        return;
      case 'sort':
        state.sort = cycle(SORT_KEYS, state.sort);
        return;
      case 'reverse':
        state.descending = !state.descending;
        return;
    }
  }

  /** A left click: selects a torrent (a second click opens it), a tab, or a file row. */
  #click(column: number, row: number): void {
    const state = this.state;
    const { rows } = this.#options.screen.size();
    if (row >= rows - 2) return;
    if (state.view === 'list') {
      const visible = visibleTorrents(state);
      const torrent = row >= 1 ? visible[state.listTop + row - 1] : undefined;
      if (!torrent) return;
      if (torrent.id === state.selectedId) return this.#do('open');
      state.selectedId = torrent.id;
      return;
    }
    if (row === DETAIL_HEADER_ROWS - 1) {
      const tab = tabAtColumn(column);
      if (tab && tab !== state.tab) this.#openTab(tab);
      return;
    }
    // Below the tab's own header row.
    const bodyRow = row - DETAIL_HEADER_ROWS - 1;
    const files = state.detail?.files;
    if (state.tab !== 'files' || !files || bodyRow < 0) return;
    const count = fileRows(files).length;
    const body = rows - 2 - DETAIL_HEADER_ROWS - 1;
    const index = filesTop(state.detailCursor, count, body) + bodyRow;
    if (index < count) state.detailCursor = index;
  }

  #openTab(tab: TuiState['tab']): void {
    const state = this.state;
    if (!state.detail) return;
    state.tab = tab;
    state.detailCursor = 0;
    state.detail = { id: state.detail.id };
    this.#poller.watchDetail({ id: state.detail.id, tab });
  }

  #move(action: 'down' | 'up' | 'pageDown' | 'pageUp' | 'home' | 'end'): void {
    const page = this.#pageSize();
    const delta = { down: 1, up: -1, pageDown: page, pageUp: -page, home: 0, end: 0 }[action];
    if (this.state.view === 'list') {
      const last = visibleTorrents(this.state).length - 1;
      moveSelection(this.state, delta, action === 'home' ? 0 : action === 'end' ? last : undefined);
      return;
    }
    const count = detailRowCount(this.state);
    const last = Math.max(0, count - 1);
    const target =
      action === 'home' ? 0 : action === 'end' ? last : this.state.detailCursor + delta;
    this.state.detailCursor = Math.max(0, Math.min(last, target));
  }

  #fileAction(action: 'toggleWanted' | 'priorityUp' | 'priorityDown'): void {
    const detail = this.state.detail;
    if (this.state.tab !== 'files' || !detail?.files) return;
    const row = fileRows(detail.files)[this.state.detailCursor];
    if (!row) return;
    const { id } = detail;
    if (action === 'toggleWanted') {
      const wanted = row.wanted !== 'all';
      // Shown at once; the next poll confirms what the daemon did.
      for (const file of detail.files) if (row.files.includes(file.index)) file.wanted = wanted;
      this.#act(`${wanted ? 'wanting' : 'skipping'} ${row.label}`, () =>
        this.#options.source.setWanted(id, row.files, wanted),
      );
      return;
    }
    const current = row.priority ?? 0;
    const priority = Math.max(-1, Math.min(1, current + (action === 'priorityUp' ? 1 : -1)));
    for (const file of detail.files) if (row.files.includes(file.index)) file.priority = priority;
    this.#act(`priority of ${row.label}`, () =>
      this.#options.source.setPriority(id, row.files, priority),
    );
  }

  /** Runs a call in the background: a message now, the outcome when it lands, then fresh data. */
  #act(what: string, call: () => Promise<void>, full = false): void {
    this.#flash(`${what}…`);
    this.#poller.track(call).then(
      () => {
        this.#flash(`${what}: done`);
        this.#poller.refreshNow(full);
        if (this.state.view === 'detail' && this.state.detail)
          this.#poller.watchDetail({ id: this.state.detail.id, tab: this.state.tab });
      },
      (error: unknown) => this.#flash(`${what}: failed: ${oneLine(error)}`, true),
    );
  }

  /** A message on the bottom line for a while (errors stay until the next key). */
  #flash(text: string, error = false): void {
    this.state.message = { text, error };
    clearTimeout(this.#messageTimer);
    if (!error) {
      this.#messageTimer = setTimeout(() => {
        if (this.state.message?.text === text) {
          this.state.message = undefined;
          this.#changed();
        }
      }, 4000);
      this.#messageTimer.unref();
    }
    this.#changed();
  }
}
