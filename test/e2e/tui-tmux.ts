/**
 * Drives a program on a real pseudo-terminal: a private tmux server on its
 * own socket file (-S), one window of a fixed size running a shell, keys
 * sent as a person types them, the pane read back as text. Every wait is
 * bounded and, when it fails, the error carries the pane's text for the log.
 * Used by test/e2e/tui.test.ts and scripts/tui-capture.ts (no vitest here).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TMUX_BIN = '/usr/bin/tmux';

/** A word for the shell: single-quoted. */
export const shellQuote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export class TmuxPane {
  readonly socket: string;
  readonly #dir: string;

  private constructor(dir: string) {
    this.#dir = dir;
    this.socket = join(dir, 'tmux.sock');
  }

  /** A new server with one `columns`x`rows` window running `sh` (which outlives the program under test). */
  static start(columns: number, rows: number, env: Record<string, string> = {}): TmuxPane {
    const pane = new TmuxPane(mkdtempSync(join(tmpdir(), 'shoal-tui-tmux-')));
    pane.tmux(
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      'tui',
      '-x',
      String(columns),
      '-y',
      String(rows),
      ...Object.entries({ PS1: '$ ', TERM: 'tmux-256color', ...env }).flatMap(([k, v]) => [
        '-e',
        `${k}=${v}`,
      ]),
      '/bin/sh',
    );
    // A window keeps the size it was made with, whatever clients attach (none do).
    pane.tmux('set-option', '-t', 'tui', 'window-size', 'manual');
    return pane;
  }

  tmux(...args: string[]): string {
    // tmux's complaints go into the thrown error, not onto the test's output.
    return execFileSync(TMUX_BIN, ['-S', this.socket, ...args], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Types a command line and Enter. */
  run(commandLine: string): void {
    this.tmux('send-keys', '-t', 'tui', '-l', commandLine);
    this.tmux('send-keys', '-t', 'tui', 'Enter');
  }

  /** Sends tmux key names ('Enter', 'Escape', 'Tab', 'BTab', 'C-c', 'j', 'Space'...). */
  keys(...names: string[]): void {
    this.tmux('send-keys', '-t', 'tui', ...names);
  }

  /** The pane's text; with `escapes`, with its colors and attributes as escape sequences. */
  text(escapes = false): string {
    return this.tmux('capture-pane', '-p', '-t', 'tui', ...(escapes ? ['-e'] : []));
  }

  display(format: string): string {
    return this.tmux('display-message', '-p', '-t', 'tui', format).trim();
  }

  /** 1 while the program shows the alternate screen. */
  alternateOn(): boolean {
    return this.display('#{alternate_on}') === '1';
  }

  cursorVisible(): boolean {
    return this.display('#{cursor_flag}') === '1';
  }

  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-t', 'tui', '-x', String(columns), '-y', String(rows));
  }

  /** Waits until `check` passes on the pane's text (bounded); a timeout error shows the pane. */
  async waitFor(
    what: string,
    check: (text: string) => boolean,
    timeoutMs = 30_000,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text: string;
    for (;;) {
      text = this.text();
      if (check(text)) return text;
      if (Date.now() > deadline)
        throw new Error(`${what}: not within ${timeoutMs} ms. The pane:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Waits for `pattern` on the pane. */
  async waitForText(pattern: RegExp | string, timeoutMs = 30_000): Promise<string> {
    const test = (text: string) =>
      typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text);
    return this.waitFor(`the pane to show ${String(pattern)}`, test, timeoutMs);
  }

  /** Ends the server (and every process in it) and removes its socket folder. */
  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
