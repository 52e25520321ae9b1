/**
 * The terminal's lifecycle for a full-screen program: alternate screen,
 * hidden cursor, raw keys on the way in; on the way out the normal screen and
 * the cursor come back, whatever the way out is: q, Ctrl-C, SIGTERM/SIGHUP,
 * an uncaught error, or process exit. Restoring twice is harmless.
 */
import type { ReadStream, WriteStream } from 'node:tty';

// Alternate screen, hidden cursor, mouse clicks and wheel reported in SGR form (1000 + 1006).
// Shift-drag still selects text in most terminals while mouse reporting is on.
const ENTER = '\u001b[?1049h\u001b[?25l\u001b[?1000h\u001b[?1006h\u001b[H\u001b[2J';
const LEAVE = '\u001b[0m\u001b[?1006l\u001b[?1000l\u001b[?25h\u001b[?1049l';

export interface TerminalSize {
  columns: number;
  rows: number;
}

export class Terminal {
  readonly #input: ReadStream;
  readonly #output: WriteStream;
  #active = false;
  readonly #cleanups: (() => void)[] = [];

  constructor(input: ReadStream, output: WriteStream) {
    this.#input = input;
    this.#output = output;
  }

  get size(): TerminalSize {
    return { columns: this.#output.columns || 80, rows: this.#output.rows || 24 };
  }

  write(text: string): void {
    if (this.#active) this.#output.write(text);
  }

  /**
   * Takes the screen. `onKeys` gets raw input; `onResize` the new size;
   * `onExitSignal` a SIGTERM/SIGHUP/SIGINT (the screen is already restored then).
   */
  enter(handlers: {
    onKeys: (data: string) => void;
    onResize: () => void;
    onExitSignal: (signal: NodeJS.Signals) => void;
  }): void {
    this.#active = true;
    this.#output.write(ENTER);
    this.#input.setRawMode(true);
    this.#input.setEncoding('utf8');
    this.#input.resume();
    this.#listen(this.#input, 'data', handlers.onKeys);
    this.#listen(this.#output, 'resize', handlers.onResize);
    for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
      this.#listen(process, signal, () => {
        this.restore();
        handlers.onExitSignal(signal);
      });
    }
    // A crash must not leave the terminal in raw mode on the alternate screen.
    this.#listen(process, 'exit', () => this.restore());
  }

  /** Gives the screen back (idempotent); synchronous, so it also works from an 'exit' handler. */
  restore(): void {
    if (!this.#active) return;
    this.#active = false;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    try {
      this.#input.setRawMode(false);
    } catch {
      // stdin already closed
    }
    this.#input.pause();
    this.#output.write(LEAVE);
  }

  #listen(target: NodeJS.EventEmitter, event: string, handler: (data: string) => void): void {
    target.on(event, handler);
    this.#cleanups.push(() => target.off(event, handler));
  }
}
