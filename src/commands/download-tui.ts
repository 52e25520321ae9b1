/**
 * `shoal download --tui`: the full-screen view of `shoal tui` over this one
 * download, without a daemon. It owns the terminal for the run:
 * - the screen is taken at the start (a magnet shows a placeholder row while
 *   its metadata is fetched) and given back on every way out: q or Ctrl-C,
 *   SIGTERM/SIGHUP/SIGINT, a failed download, a crash, process exit;
 * - q or Ctrl-C while the download runs stops it as Ctrl-C does without
 *   --tui (resume state saved, exit 130): the terminal comes back at once and
 *   the stop goes on there;
 * - a completed download stays on screen as Finished until q, then exits 0
 *   (at once with an explicit --seed-time 0 or --seed-ratio 0);
 * - what the command prints on stdout (the downloaded path) is held until the
 *   screen is given back, so it lands on the normal screen.
 */
import type { ReadStream, WriteStream } from 'node:tty';
import { basename } from 'node:path';
import { ExitCode, UsageError } from '../core/errors.ts';
import { refuseNonDirectory } from '../core/storage/out-dir.ts';
import type { TorrentSession } from '../core/session/torrent-session.ts';
import { TuiApp } from '../tui/app.ts';
import { DownloadSource, type AttachOptions } from '../tui/download-source.ts';
import { oneLine } from '../tui/poller.ts';
import { Terminal } from '../tui/terminal.ts';
import { themeFromEnv } from '../tui/theme.ts';
import { parseSize } from './flag-values.ts';

/** The flags --tui looks at (a subset of download's). */
export interface TuiDownloadFlags {
  out: string;
  json?: boolean;
  quiet?: boolean;
  events?: boolean;
  follow?: boolean;
  'seed-time'?: number;
  'seed-ratio'?: number;
}

/** Where the command's result goes (download.run.ts's RunOutput). */
interface Output {
  stdout(line: string): void;
}

/** One poll of the in-process session a second: it ticks once a second too. */
const POLL_MS = 1000;

export class DownloadTui {
  readonly source: DownloadSource;
  readonly #terminal: Terminal;
  readonly #app: TuiApp;
  readonly #exitWhenDone: boolean;
  /** Stops the download (the run's abort), set by the command. */
  #stop: () => void = () => {};
  /** The run has ended (close was called): q no longer stops anything. */
  #ended = false;
  #active = true;
  /** Resolves when the screen is given back, whatever the reason (a signal while Finished shows). */
  readonly #left: Promise<void>;
  #resolveLeft!: () => void;
  readonly #held: string[] = [];
  #output: Output | null = null;
  readonly #crash = (error: unknown): void => {
    this.#leave();
    process.stderr.write(`shoal: error: internal error: ${oneLine(error)}\n`);
    process.exit(ExitCode.internal);
  };

  /**
   * Checks that --tui can run here (one-line usage errors, exit 2) and that the output
   * folder can be one (as download does without --tui: one line, exit 5), then takes the
   * screen: an error the command finds before its first step never flashes a full screen.
   */
  static open(sourceText: string, flags: TuiDownloadFlags, version: string): DownloadTui {
    for (const other of ['json', 'quiet', 'events'] as const)
      if (flags[other])
        throw new UsageError(`--tui cannot be used with --${other} (it draws on the terminal)`);
    if (flags.follow)
      throw new UsageError('--tui cannot be used with --follow (it shows one download)');
    if (!process.stdin.isTTY || !process.stdout.isTTY)
      throw new UsageError(
        '--tui needs a terminal on stdin and stdout (without --tui, progress goes to stderr)',
      );
    if (process.env.TERM === 'dumb')
      throw new UsageError('--tui cannot draw on TERM=dumb (it moves the cursor)');
    refuseNonDirectory(flags.out, { creates: true });
    return new DownloadTui(sourceText, flags, version);
  }

  private constructor(sourceText: string, flags: TuiDownloadFlags, version: string) {
    this.#left = new Promise((resolve) => (this.#resolveLeft = resolve));
    this.#exitWhenDone = flags['seed-time'] === 0 || flags['seed-ratio'] === 0;
    this.source = new DownloadSource({
      name: placeholderName(sourceText),
      outDir: flags.out,
      version,
    });
    this.#terminal = new Terminal(process.stdin as ReadStream, process.stdout as WriteStream);
    const terminal = this.#terminal;
    this.#app = new TuiApp({
      source: this.source,
      screen: { size: () => terminal.size, write: (text) => terminal.write(text) },
      theme: themeFromEnv(process.env),
      intervalMs: POLL_MS,
      parseSize: (text) => parseSize(text, 'limit'),
    });
    // A bug must not leave the terminal raw and on the alternate screen, nor print a stack trace there.
    process.on('uncaughtException', this.#crash);
    process.on('unhandledRejection', this.#crash);
    terminal.enter({
      onKeys: (data) => this.#app.input(data),
      onResize: () => this.#app.resize(),
      // The screen is already restored; the download stops as after Ctrl-C.
      onExitSignal: () => this.#interrupt(),
    });
    this.#app.start();
    if (/^magnet:|^[0-9a-f]{40}$|^[a-z2-7]{32}$/i.test(sourceText.trim()))
      this.#app.notify("fetching the torrent's metadata from peers…");
    void this.#app.done.then(() => {
      if (!this.#ended) this.#interrupt();
    });
  }

  /** What stops the download: q and Ctrl-C call it (the command's abort). */
  onStop(stop: () => void): void {
    this.#stop = stop;
  }

  /** Lines for stdout, held while the screen is taken (written by close). */
  holdOutput(output: Output): Output {
    this.#output = output;
    return { stdout: (line) => (this.#active ? this.#held.push(line) : output.stdout(line)) };
  }

  /** The torrent is known and its session made: show it (warnings and completion as messages). */
  attach(session: TorrentSession, options: AttachOptions): void {
    this.source.attach(session, options);
    session.on('warning', (message) => this.#app.notify(`warning: ${message}`));
    session.on('complete', () => this.#app.notify('download complete'));
  }

  /**
   * The run is over. After a success the screen stays, showing the download
   * Finished, until q (unless the user asked to leave when done); then the
   * terminal is given back and the held output written.
   */
  async close(succeeded: boolean): Promise<void> {
    this.#ended = true;
    if (succeeded && this.#active && !this.#exitWhenDone) {
      this.source.finish();
      const where = this.#held.at(-1);
      this.#app.notify(`complete${where ? `: ${where}` : ''} (q quits)`);
      await Promise.race([this.#app.done, this.#left]);
    }
    this.#leave();
    for (const line of this.#held.splice(0)) this.#output?.stdout(line);
  }

  /** q, Ctrl-C or a signal while the download runs: the terminal back, then the download stops. */
  #interrupt(): void {
    if (this.#ended) return this.#leave();
    const wasActive = this.#active;
    this.#leave();
    if (wasActive) process.stderr.write('shoal: stopping (press Ctrl-C again to quit at once)\n');
    this.#stop();
  }

  /** Gives the screen back (idempotent). */
  #leave(): void {
    this.#active = false;
    this.#app.stop();
    this.#terminal.restore();
    process.off('uncaughtException', this.#crash);
    process.off('unhandledRejection', this.#crash);
    this.#resolveLeft();
  }
}

/** The row's name before the metadata is known: a magnet's dn, else the file or URL's last part. */
function placeholderName(source: string): string {
  const text = source.trim();
  if (/^magnet:/i.test(text))
    return new URLSearchParams(text.slice(text.indexOf('?') + 1)).get('dn') || 'magnet link';
  if (text === '-') return 'torrent from stdin';
  return basename(text.replace(/[?#].*$/, '')) || text;
}
