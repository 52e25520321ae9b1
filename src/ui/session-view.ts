/**
 * Shows a running torrent session (download or seed) on stderr:
 * - tty: listr2 phases (check existing data, connect, download, seed) with a
 *   progress bar drawn by cli-progress's formatter under the active phase;
 * - plain: one line every few seconds, no escapes (CI logs, pipes);
 * - quiet: nothing.
 * It only subscribes to the session's events; it never drives the engine.
 */
import { Listr, ListrLogger, ProcessOutput } from 'listr2';
import cliProgress from 'cli-progress';
import type { SessionStats, TorrentSession } from '../core/session/torrent-session.ts';
import { formatBytes, formatDuration, formatRate } from './format.ts';
import type { OutputMode } from './output-mode.ts';

export interface SessionView {
  /** Resolves once the view has drawn its last frame. */
  close(): Promise<void>;
}

export function statusLine(stats: SessionStats): string {
  const pct = stats.totalWanted > 0 ? (100 * stats.haveWanted) / stats.totalWanted : 100;
  const eta = stats.downloadRate > 0 ? stats.left / stats.downloadRate : Infinity;
  const parts =
    stats.phase === 'seeding'
      ? [`seeding`, `up ${formatRate(stats.uploadRate)}`, `sent ${formatBytes(stats.uploaded)}`]
      : [
          `${pct.toFixed(1)}%`,
          `${formatBytes(stats.haveWanted)}/${formatBytes(stats.totalWanted)}`,
          `down ${formatRate(stats.downloadRate)}`,
          `up ${formatRate(stats.uploadRate)}`,
          `ETA ${formatDuration(eta)}`,
        ];
  parts.push(`peers ${stats.peers}/${stats.knownPeers}`);
  return parts.join('  ');
}

export function createSessionView(
  session: TorrentSession,
  mode: OutputMode,
  verb: string,
): SessionView {
  if (mode === 'quiet') return { close: async () => {} };
  if (mode === 'plain') return plainView(session, verb);
  return ttyView(session);
}

function intervalMs(): number {
  const fromEnv = Number(process.env.SHOAL_PROGRESS_INTERVAL);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv * 1000 : 5000;
}

function plainView(session: TorrentSession, verb: string): SessionView {
  const name = session.meta.name;
  let lastLine = 0;
  const write = (line: string) => process.stderr.write(`${line}\n`);
  session.on('phase', (phase) => {
    if (phase === 'checking') write(`${verb} ${name}: checking existing data`);
    if (phase === 'downloading') write(`${verb} ${name}: downloading`);
    if (phase === 'seeding') write(`${verb} ${name}: seeding`);
  });
  session.on('check-done', (found, wanted) => {
    if (found > 0) write(`${verb} ${name}: ${found}/${wanted} pieces already on disk`);
  });
  session.on('listening', (port) => write(`${verb} ${name}: listening on port ${port}`));
  session.on('warning', (message) => write(`warning: ${message}`));
  session.on('progress', (stats) => {
    const now = Date.now();
    if (now - lastLine < intervalMs()) return;
    lastLine = now;
    write(`${verb} ${name}: ${statusLine(stats)}`);
  });
  return {
    close: async () => {
      const stats = session.stats();
      write(`${verb} ${name}: ${statusLine(stats)} (${formatDuration(stats.elapsedMs / 1000)})`);
    },
  };
}

function ttyView(session: TorrentSession): SessionView {
  let latest: SessionStats = session.stats();
  session.on('progress', (stats) => {
    latest = stats;
  });
  const barOptions = { barsize: 30, barCompleteChar: '\u2588', barIncompleteChar: '\u2591' };
  const bar = (fraction: number) =>
    cliProgress.Format.BarFormat(Math.min(1, Math.max(0, fraction)), barOptions);
  const waitForPhase = (phases: string[]) =>
    new Promise<void>((resolve) => {
      if (phases.includes(session.phase)) return resolve();
      const onPhase = (phase: string) => {
        if (phases.includes(phase)) {
          session.off('phase', onPhase);
          resolve();
        }
      };
      session.on('phase', onPhase);
    });
  const warnings: string[] = [];
  session.on('warning', (message) => warnings.push(message));

  const list = new Listr(
    [
      {
        title: 'Check existing data',
        task: async (_ctx, task) => {
          session.on('check-progress', (done, total) => {
            task.output = `${bar(done / total)} ${formatBytes(done)}/${formatBytes(total)}`;
          });
          session.once('check-done', (found, wanted) => {
            task.title = `Check existing data: ${found}/${wanted} pieces on disk`;
          });
          await waitForPhase(['downloading', 'seeding', 'stopping', 'done']);
        },
      },
      {
        title: 'Download',
        skip: () =>
          session.phase === 'seeding' ||
          (session.phase !== 'downloading' && session.stats().left === 0),
        task: async (_ctx, task) => {
          const timer = setInterval(() => {
            const fraction = latest.totalWanted > 0 ? latest.haveWanted / latest.totalWanted : 1;
            task.output = `${bar(fraction)} ${statusLine(latest)}`;
          }, 250);
          await waitForPhase(['seeding', 'stopping', 'done']);
          clearInterval(timer);
          task.title = `Download: ${formatBytes(latest.haveWanted)} at ${formatRate(latest.downloaded / Math.max(latest.elapsedMs / 1000, 0.001))}`;
        },
      },
      {
        title: 'Seed',
        skip: () => session.phase !== 'seeding',
        task: async (_ctx, task) => {
          const timer = setInterval(() => {
            task.output = statusLine(latest);
          }, 250);
          await waitForPhase(['stopping', 'done']);
          clearInterval(timer);
          task.title = `Seed: sent ${formatBytes(latest.uploaded)}`;
        },
      },
    ],
    {
      renderer: 'default',
      // The live view belongs on stderr: stdout carries the result.
      rendererOptions: {
        collapseSubtasks: false,
        logger: new ListrLogger({
          useIcons: true,
          processOutput: new ProcessOutput(process.stderr, process.stderr),
        }),
      },
      exitOnError: false,
      registerSignalListeners: false,
    },
  );
  const running = list.run().catch(() => {});
  return {
    close: async () => {
      await running;
      for (const message of warnings.slice(-5)) process.stderr.write(`warning: ${message}\n`);
    },
  };
}
