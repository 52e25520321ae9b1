/**
 * A block of lines redrawn in place at the bottom of a terminal (the live
 * view of download, seed, create and verify).
 *
 * - Every line is cut to one column less than the terminal's width, so no line
 *   ever wraps and the cursor's row count is known exactly.
 * - On resize, terminals (tmux, VTE, iTerm2, kitty, Windows Terminal) reflow
 *   what was drawn: a line of w columns now takes ceil(w / newWidth) rows. The
 *   region moves up by that many rows and erases to the end of the screen
 *   before drawing again, so a narrower window leaves no stale fragments.
 * - The cursor is hidden while the region is live and shown again at the end,
 *   also when the process exits in between (a second Ctrl-C).
 */
import { cursorUp, ERASE_DOWN, HIDE_CURSOR, SHOW_CURSOR, truncate, visibleWidth } from './ansi.ts';

/** What the region needs from a stream: process.stderr, or a fake one in tests. */
export interface TerminalStream {
  write(chunk: string): boolean;
  columns?: number;
  rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export class LiveRegion {
  readonly #stream: TerminalStream;
  /** Visible widths of the lines currently on screen (to know their rows after a reflow). */
  #drawn: number[] = [];
  #drawnColumns: number;
  #lines: string[] = [];
  #active = true;
  readonly #onResize = () => this.#redraw(true);
  readonly #onExit = () => {
    if (this.#active) this.#stream.write(SHOW_CURSOR);
  };

  constructor(stream: TerminalStream) {
    this.#stream = stream;
    this.#drawnColumns = this.columns;
    stream.write(HIDE_CURSOR);
    stream.on?.('resize', this.#onResize);
    process.on('exit', this.#onExit);
  }

  get columns(): number {
    const columns = this.#stream.columns;
    return columns && columns > 0 ? columns : 80;
  }

  /** Replaces the region's content (lines must not contain newlines). */
  update(lines: string[]): void {
    if (!this.#active) return;
    this.#lines = lines;
    this.#redraw(false);
  }

  /** Draws `finalLines` (default: the current content) for good, shows the cursor, detaches. */
  done(finalLines?: string[]): void {
    if (!this.#active) return;
    if (finalLines) this.#lines = finalLines;
    this.#redraw(false);
    this.#active = false;
    this.#stream.write(SHOW_CURSOR);
    this.#stream.off?.('resize', this.#onResize);
    process.off('exit', this.#onExit);
  }

  /** Prints a line above the region (it scrolls away with the log), then redraws the region. */
  log(line: string): void {
    if (!this.#active) {
      this.#stream.write(`${line}\n`);
      return;
    }
    this.#stream.write(this.#erase(false) + `${truncate(line, this.columns - 1)}\n`);
    this.#drawn = [];
    this.#redraw(false);
  }

  #erase(resized: boolean): string {
    const columns = this.columns;
    let rows = 0;
    for (const width of this.#drawn) {
      // Lines were cut to the width they were drawn at; only a narrower terminal reflows them.
      rows += resized && columns < this.#drawnColumns ? Math.max(1, Math.ceil(width / columns)) : 1;
    }
    return rows > 0 ? `\r${cursorUp(rows)}${ERASE_DOWN}` : `\r${ERASE_DOWN}`;
  }

  #redraw(resized: boolean): void {
    const columns = this.columns;
    const fitted = this.#lines.map((line) => truncate(line, columns - 1));
    const out = this.#erase(resized) + fitted.map((line) => `${line}\n`).join('');
    this.#drawn = fitted.map(visibleWidth);
    this.#drawnColumns = columns;
    this.#stream.write(out);
  }
}
