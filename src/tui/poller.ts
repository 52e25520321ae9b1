/**
 * Keeps the state fresh without ever holding up the screen. Every interval it
 * asks for the list (all torrents every FULL_EVERY-th time, otherwise only the
 * recently active ones) and, while a detail pane is open, that one tab's
 * data. Calls run beside rendering: at most one list call and one detail call
 * are in flight, a call slower than BUSY_AFTER_MS marks the link busy, and a
 * failed call marks it away; polling simply goes on, so the TUI reconnects by
 * itself when the daemon is back (with a full refresh, as changes were missed).
 */
import {
  ActionRefused,
  type DetailTab,
  type ListUpdate,
  type SessionInfo,
  type TuiDetail,
  type TuiSource,
} from './types.ts';

export const FULL_EVERY = 5;
export const BUSY_AFTER_MS = 1500;

export interface PollerEvents {
  list(update: ListUpdate): void;
  detail(detail: TuiDetail, tab: DetailTab): void;
  session(info: SessionInfo): void;
  /** 'ok' after any answer, 'busy' while one is slow, 'away' after a failure (with its one-line reason). */
  link(state: 'ok' | 'busy' | 'away', message: string): void;
}

export class Poller {
  readonly #source: TuiSource;
  readonly #events: PollerEvents;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #polls = 0;
  #needFull = true;
  #listInFlight = false;
  #detailInFlight = false;
  /** Asked for while a call was in flight: poll again as soon as it lands (never two at once). */
  #listAgain = false;
  #detailAgain = false;
  #pending = 0;
  #busyTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** What the detail pane shows now (undefined: the list). */
  #detailTarget: { id: number; tab: DetailTab } | undefined;

  constructor(source: TuiSource, events: PollerEvents, intervalMs: number) {
    this.#source = source;
    this.#events = events;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearTimeout(this.#busyTimer);
  }

  /** Which detail tab to keep fresh; fetched at once so the pane fills on the next answer. */
  watchDetail(target: { id: number; tab: DetailTab } | undefined): void {
    this.#detailTarget = target;
    if (target) void this.#pollDetail();
  }

  /** After an action: poll now instead of at the next tick. */
  refreshNow(full = false): void {
    if (full) this.#needFull = true;
    this.#tick();
  }

  #tick(): void {
    if (this.#stopped) return;
    void this.#pollList();
    if (this.#detailTarget) void this.#pollDetail();
  }

  async #pollList(): Promise<void> {
    if (this.#listInFlight) {
      this.#listAgain = true;
      return;
    }
    this.#listInFlight = true;
    const full = this.#needFull || this.#polls % FULL_EVERY === 0;
    this.#polls++;
    try {
      const update = await this.#track(() => this.#source.list(full));
      if (full) this.#needFull = false;
      if (!this.#stopped) this.#events.list(update);
      if (full) {
        const info = await this.#track(() => this.#source.session());
        if (!this.#stopped) this.#events.session(info);
      }
    } catch {
      // #track reported it (and asked for a full list once the daemon answers again).
    } finally {
      this.#listInFlight = false;
      if (this.#listAgain) {
        this.#listAgain = false;
        void this.#pollList();
      }
    }
  }

  async #pollDetail(): Promise<void> {
    const target = this.#detailTarget;
    if (!target) return;
    if (this.#detailInFlight) {
      this.#detailAgain = true;
      return;
    }
    this.#detailInFlight = true;
    try {
      const detail = await this.#track(() => this.#source.detail(target.id, target.tab));
      // The user may have moved on while the answer was on its way.
      const now = this.#detailTarget;
      if (!this.#stopped && now && now.id === target.id && now.tab === target.tab)
        this.#events.detail(detail, target.tab);
    } catch {
      // reported by #track
    } finally {
      this.#detailInFlight = false;
      if (this.#detailAgain) {
        this.#detailAgain = false;
        void this.#pollDetail();
      }
    }
  }

  /** Runs an action's call (pause, remove...) with the same busy/away accounting as the polls. */
  track<T>(call: () => Promise<T>): Promise<T> {
    return this.#track(call);
  }

  /** Runs one call, keeping the busy/away mark right. */
  async #track<T>(call: () => Promise<T>): Promise<T> {
    this.#pending++;
    if (this.#pending === 1) {
      this.#busyTimer = setTimeout(() => {
        if (this.#pending > 0 && !this.#stopped) this.#events.link('busy', '');
      }, BUSY_AFTER_MS);
    }
    try {
      const result = await call();
      if (!this.#stopped) this.#events.link('ok', '');
      return result;
    } catch (error) {
      // A refusal is an answer: the link is fine, the action's message says why.
      if (error instanceof ActionRefused) throw error;
      // Changes may be missed while the daemon is away: the next list is a full one.
      this.#needFull = true;
      if (!this.#stopped) this.#events.link('away', oneLine(error));
      throw error;
    } finally {
      this.#pending--;
      if (this.#pending === 0) clearTimeout(this.#busyTimer);
    }
  }
}

export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.slice(0, 200);
}
