import { readFile } from 'node:fs/promises';
import { InputError, InterruptedError, UsageError } from '../core/errors.ts';
import { TRACKER_DEFAULTS } from '../core/tracker-server/defaults.ts';
import { TrackerServer, type TrackerStats } from '../core/tracker-server/tracker-server.ts';
import { parseWhitelist } from '../core/tracker-server/whitelist.ts';
import { progressIntervalMs } from '../ui/output-mode.ts';
import { handleSignals } from './signals.ts';
import type { Interfaces } from '@oclif/core';
import type Tracker from './tracker.ts';
import type { CommandOutput } from './command-output.ts';

/** What `shoal tracker` does (the flags and help live in tracker.ts). */
export async function tracker(
  flags: Interfaces.InferredFlags<typeof Tracker.flags>,
  output: CommandOutput,
): Promise<void> {
  if (flags.whitelist !== undefined && flags.open)
    throw new UsageError('--whitelist and --open exclude each other: pick one');
  if (flags.whitelist === undefined && !flags.open)
    throw new UsageError(
      'give --whitelist FILE (the info-hashes to serve) or --open (serve any info-hash)',
    );
  const whitelist = flags.whitelist === undefined ? null : await loadWhitelist(flags.whitelist);
  const intervalMs = flags.interval ?? TRACKER_DEFAULTS.intervalSec * 1000;
  if (intervalMs < 1000 || intervalMs > 24 * 3600 * 1000)
    throw new UsageError('--interval must be from 1s to 24h');

  const server = new TrackerServer({
    port: flags.port,
    bind: flags.bind ?? [],
    intervalSec: Math.round(intervalMs / 1000),
    whitelist,
    maxPeers: flags['max-peers'] ?? TRACKER_DEFAULTS.maxPeers,
    maxPeersPerTorrent: flags['max-peers-per-torrent'] ?? TRACKER_DEFAULTS.maxPeersPerTorrent,
    maxTorrents: flags['max-torrents'] ?? TRACKER_DEFAULTS.maxTorrents,
  });
  await server.start();

  const urls = server.urls();
  const out = (line: object) => output.stdout(JSON.stringify(line));
  if (flags.json) {
    out({
      type: 'listening',
      port: server.port,
      http: urls.http,
      udp: urls.udp,
      whitelist: whitelist?.size ?? null,
    });
  } else {
    for (const url of [...urls.http, ...urls.udp]) output.stdout(url);
    if (!flags.quiet)
      process.stderr.write(
        `shoal tracker: ${whitelist ? `${whitelist.size} whitelisted info-hashes` : 'open to any info-hash'}, port ${server.port}\n`,
      );
  }

  const reporter = statsReporter(server, (stats) => {
    if (flags.json) out({ type: 'stats', ...stats });
    else if (!flags.quiet)
      process.stderr.write(
        `shoal tracker: ${stats.torrents} torrents, ${stats.peers} peers (${stats.seeders} seeders), ${stats.announcesPerSecond} announces/s\n`,
      );
  });

  await new Promise<void>((resolve) => {
    const stopSignals = handleSignals(() => {
      stopSignals();
      resolve();
    });
  });
  clearInterval(reporter);
  const final = server.stats();
  await server.close();
  if (flags.json) out({ type: 'stopped', ...final });
  throw new InterruptedError('tracker stopped');
}

async function loadWhitelist(file: string): Promise<Set<string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read whitelist ${file}: ${code ?? (error as Error).message}`, {
      cause: error,
    });
  }
  return parseWhitelist(text, file);
}

/** Calls `report` every progress interval with the counts and the request rates since the last call. */
function statsReporter(
  server: TrackerServer,
  report: (stats: TrackerStats & { announcesPerSecond: number; scrapesPerSecond: number }) => void,
): NodeJS.Timeout {
  let last = { at: Date.now(), announces: 0, scrapes: 0 };
  return setInterval(() => {
    const stats = server.stats();
    const now = Date.now();
    const seconds = Math.max(0.001, (now - last.at) / 1000);
    const rate = (count: number) => Math.round((count / seconds) * 10) / 10;
    report({
      ...stats,
      announcesPerSecond: rate(stats.announces - last.announces),
      scrapesPerSecond: rate(stats.scrapes - last.scrapes),
    });
    last = { at: now, announces: stats.announces, scrapes: stats.scrapes };
  }, progressIntervalMs());
}
