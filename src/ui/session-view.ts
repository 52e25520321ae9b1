/**
 * Shows a running torrent session (download or seed) on stderr:
 * - tty: listr2 phases (load or metadata, check existing data, download, seed,
 *   verify) drawn by a small listr2 renderer into a LiveRegion (width-safe,
 *   redraws on resize), with
 *   the overall bar, status line, files in progress and (--verbose) peers;
 * - plain: one line every SHOAL_PROGRESS_INTERVAL seconds (default 5), no escapes;
 * - quiet: nothing.
 * It only subscribes to the session's events; it never drives the engine.
 */
import type { ListrTask } from 'listr2';
import type { TorrentSession } from '../core/session/torrent-session.ts';
import { formatBytes, formatRate } from './format.ts';
import { LiveRegion, type TerminalStream } from './live-region.ts';
import { progressIntervalMs, type OutputMode } from './output-mode.ts';
import { SessionModel, type ModelSession, type SessionSnapshot } from './session-model.ts';
import { renderSessionFrame, summaryLine, type TaskLine } from './session-frame.ts';
import type { SourceCounters } from './sources.ts';

export interface SessionView {
  /** A line for the user (e.g. "stopping…") that must not break the live frame. */
  notice(line: string): void;
  /** Resolves once the view has drawn its last frame. */
  close(): Promise<void>;
  /** The latest state (for summaries, e.g. after Ctrl-C). */
  snapshot(): SessionSnapshot;
  /** Result of `download --verify` (re-reading the data after the session): ends the verify phase. */
  verified(good: number, wanted: number): void;
}

export interface SessionViewOptions {
  verb: string;
  selected?: readonly number[] | null;
  sources?: SourceCounters | null;
  verbose?: boolean;
  /** Where to draw (default process.stderr). */
  stream?: TerminalStream;
  /** Milliseconds between plain lines (default SHOAL_PROGRESS_INTERVAL seconds, else 5 s). */
  intervalMs?: number;
  /** Milliseconds between live frames (default 200). */
  frameMs?: number;
  /** Where the torrent came from: a .torrent, or metadata fetched from peers for a magnet link. */
  origin?: 'torrent' | 'magnet';
  /** `download --verify`: a verify phase follows the download. */
  verify?: boolean;
}

export type ViewSession = ModelSession & Pick<TorrentSession, 'off' | 'once'>;

export function createSessionView(
  session: ViewSession,
  mode: OutputMode,
  options: SessionViewOptions,
): SessionView {
  const model = new SessionModel(session, options);
  const stream = options.stream ?? process.stderr;
  if (mode === 'quiet')
    return { notice() {}, close: async () => {}, snapshot: () => model.snapshot(), verified() {} };
  if (mode === 'plain') return plainView(session, model, stream, options);
  return ttyView(session, model, stream, options);
}

function plainView(
  session: ViewSession,
  model: SessionModel,
  stream: TerminalStream,
  options: SessionViewOptions,
): SessionView {
  const name = session.meta.name;
  const prefix = `${options.verb} ${name}`;
  const interval = options.intervalMs ?? progressIntervalMs();
  let lastLine = Date.now();
  const write = (line: string) => stream.write(`${line}\n`);
  const phaseLines: Record<string, string> = {
    checking: 'checking existing data',
    downloading: 'downloading',
    seeding: 'seeding',
  };
  let shownPhase: string | null = null;
  const showPhase = (phase: string) => {
    if (phase === shownPhase || !phaseLines[phase]) return;
    shownPhase = phase;
    write(`${prefix}: ${phaseLines[phase]}`);
  };
  // The session starts in the checking phase, before this view subscribed.
  showPhase(session.phase);
  session.on('phase', showPhase);
  session.on('check-done', (found, wanted) => {
    if (found > 0) write(`${prefix}: ${found}/${wanted} pieces already on disk`);
  });
  session.on('listening', (port) => write(`${prefix}: listening on port ${port}`));
  session.on('warning', (message) => write(`warning: ${message}`));
  session.on('progress', () => {
    const now = Date.now();
    if (now - lastLine < interval) return;
    lastLine = now;
    write(summaryLine(model.snapshot()));
  });
  return {
    notice: (line) => write(line),
    close: async () => {
      model.refresh();
      write(summaryLine(model.snapshot()));
    },
    snapshot: () => model.snapshot(),
    verified: (good, wanted) =>
      write(
        `${prefix}: verified ${good}/${wanted} pieces on disk${good < wanted ? ' (MISMATCH)' : ''}`,
      ),
  };
}

/**
 * A listr2 renderer that hands the task list to the view's draw function: listr2
 * keeps the phase states and titles, the LiveRegion does the drawing.
 */
class FrameRenderer {
  static nonTTY = true;
  static rendererOptions: Record<PropertyKey, unknown> = {};
  static rendererTaskOptions: Record<PropertyKey, unknown> = {};
  readonly #tasks: ListrLikeTask[];
  readonly #options: { attach?: (tasks: ListrLikeTask[]) => void; detach?: () => void };
  constructor(tasks: ListrLikeTask[], options: FrameRenderer['options']) {
    this.#tasks = tasks;
    this.#options = options;
  }
  declare options: { attach?: (tasks: ListrLikeTask[]) => void; detach?: () => void };
  render(): void {
    this.#options.attach?.(this.#tasks);
  }
  end(): void {
    this.#options.detach?.();
  }
}

interface ListrLikeTask {
  title?: string;
  isStarted(): boolean;
  isCompleted(): boolean;
  isSkipped(): boolean;
  hasFailed(): boolean;
}

export function taskLines(tasks: ListrLikeTask[]): TaskLine[] {
  return tasks.map((task) => ({
    title: task.title ?? '',
    state: task.hasFailed()
      ? 'failed'
      : task.isSkipped()
        ? 'skipped'
        : task.isCompleted()
          ? 'done'
          : task.isStarted()
            ? 'running'
            : 'waiting',
  }));
}

function ttyView(
  session: ViewSession,
  model: SessionModel,
  stream: TerminalStream,
  options: SessionViewOptions,
): SessionView {
  const region = new LiveRegion(stream);
  let tasks: ListrLikeTask[] = [];
  let tick = 0;
  const draw = () => {
    model.refresh();
    region.update(
      renderSessionFrame(model.snapshot(), taskLines(tasks), region.columns, { color: true, tick }),
    );
  };
  const timer = setInterval(() => {
    tick++;
    draw();
  }, options.frameMs ?? 200);
  timer.unref();

  const waitForPhase = (phases: string[]) =>
    new Promise<void>((resolve) => {
      if (phases.includes(session.phase)) return resolve();
      const onPhase = (phase: string) => {
        if (!phases.includes(phase)) return;
        session.off('phase', onPhase);
        resolve();
      };
      session.on('phase', onPhase);
    });
  const seeding = () => session.phase === 'seeding';

  // `download --verify` ends with a verify phase that the command completes through `verified`.
  let verifyResult: (result: { good: number; wanted: number } | null) => void = () => {};
  const verifyDone = new Promise<{ good: number; wanted: number } | null>((resolve) => {
    verifyResult = resolve;
  });
  let checked: [found: number, wanted: number] | null = null;
  session.once('check-done', (found, wanted) => {
    checked = [found, wanted];
  });
  const phaseTasks: ListrTask[] = [
    {
      title: 'Load',
      task: async (_ctx, task) => {
        const { name, files, pieceCount, spaceSize } = session.meta;
        const count = files.filter((file) => !file.padding).length;
        const what = `${name} (${formatBytes(spaceSize)}, ${count} file${count === 1 ? '' : 's'}, ${pieceCount} pieces)`;
        task.title = options.origin === 'magnet' ? `Metadata from peers: ${what}` : `Load: ${what}`;
      },
    },
    {
      title: 'Check existing data',
      task: async (_ctx, task) => {
        const title = (found: number, wanted: number) => {
          task.title = `Check existing data: ${found}/${wanted} pieces on disk`;
        };
        // The check may have ended while listr2 was loading.
        if (checked) title(...checked);
        else session.once('check-done', title);
        await waitForPhase(['downloading', 'seeding', 'stopping', 'done']);
      },
    },
    {
      title: options.verb === 'seed' ? 'Download (not needed)' : 'Download',
      skip: () => seeding() || (session.phase !== 'downloading' && session.stats().left === 0),
      task: async (_ctx, task) => {
        await waitForPhase(['seeding', 'stopping', 'done']);
        model.refresh();
        const { stats } = model.snapshot();
        const rate = formatRate(stats.downloaded / Math.max(stats.elapsedMs / 1000, 0.001));
        const amount = `${formatBytes(stats.haveWanted)}/${formatBytes(stats.totalWanted)}`;
        if (stats.left > 0) {
          // Stopped before the end (Ctrl-C, timeout, error): shown as failed, not done.
          task.title = `Download stopped at ${amount}`;
          throw new Error(task.title);
        }
        task.title = `Download: ${amount} at ${rate}`;
      },
    },
    {
      title: 'Seed',
      skip: () => !seeding(),
      task: async (_ctx, task) => {
        await waitForPhase(['stopping', 'done']);
        task.title = `Seed: sent ${formatBytes(model.snapshot().stats.uploaded)}`;
      },
    },
    {
      title: 'Verify data on disk',
      skip: () => !options.verify,
      task: async (_ctx, task) => {
        const result = await verifyDone;
        if (!result) {
          task.title = 'Verify: not run';
          throw new Error(task.title);
        }
        task.title = `Verify: ${result.good}/${result.wanted} pieces match`;
        if (result.good < result.wanted) throw new Error(task.title);
      },
    },
  ];
  // listr2 loads here, with the first view that draws phases, not with every download
  // (--quiet, --json, --events and a pipe never draw them: 5-10 ms of its modules at start-up).
  // Its tasks wait for the session's phases, so starting them a moment later misses nothing.
  const running = import('listr2')
    .then(({ Listr }) =>
      new Listr(phaseTasks, {
        renderer: FrameRenderer as never,
        rendererOptions: {
          attach: (listed: ListrLikeTask[]) => {
            tasks = listed;
            draw();
          },
        } as never,
        exitOnError: false,
        registerSignalListeners: false,
      }).run(),
    )
    .catch(() => {});
  let closed = false;
  return {
    notice: (line) => region.log(line),
    close: async () => {
      if (closed) return;
      closed = true;
      // A verify phase still waiting (the run failed or was stopped first) ends as not run.
      verifyResult(null);
      // An interrupted or failed run leaves phases waiting: let them settle on 'done'.
      await running;
      clearInterval(timer);
      model.refresh();
      const snap = model.snapshot();
      // No phase is running any more, so the last frame is the phase list with final titles.
      region.done(renderSessionFrame(snap, taskLines(tasks), region.columns, { color: true }));
    },
    snapshot: () => model.snapshot(),
    verified: (good, wanted) => verifyResult({ good, wanted }),
  };
}
