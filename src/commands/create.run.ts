import { basename, resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { createTorrent, type CreateResult } from '../core/create/build-torrent.ts';
import { createHashPool } from '../core/create/create-pool.ts';
import { toHex, toMagnet } from '../core/metainfo/index.ts';
import { refuseExistingOutput, writeOutputFile } from '../core/storage/output-file.ts';
import type { TorrentVersion } from '../core/metainfo/types.ts';
import { createByteProgress, type ByteProgress } from '../ui/byte-progress.ts';
import { eventStreamFor, type EventStream } from '../ui/events.ts';
import { decideOutputMode } from '../ui/output-mode.ts';
import { checkWebSeedUrls, parseSize } from './flag-values.ts';
import packageJson from '../../package.json' with { type: 'json' };
import type { CommandOutput } from './command-output.ts';

/**
 * create's flags as oclif's parser gives them (create.ts declares them) and
 * as create.fast.ts builds them when it parses a plain command line itself.
 * Spelled out rather than inferred from create.ts, so that neither this file
 * nor the fast path loads oclif; create.ts passing its parsed flags here is
 * what keeps the two in step.
 */
export interface CreateFlags {
  out?: string;
  announce?: string[];
  'piece-length': string;
  v1?: boolean;
  v2?: boolean;
  hybrid?: boolean;
  private?: boolean;
  comment?: string;
  source?: string;
  'web-seed'?: string[];
  'no-date'?: boolean;
  exclude?: string[];
  'include-hidden'?: boolean;
  threads?: number;
  magnet?: boolean;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  events?: boolean;
}

/** What `shoal create` does (the flags and help live in create.ts). */
export async function create(
  args: { path: string },
  flags: CreateFlags,
  output: CommandOutput,
): Promise<void> {
  const events = eventStreamFor(flags);
  events?.start('create', args.path, packageJson.version);
  try {
    await createTorrentFile(args.path, flags, events, output);
  } catch (error) {
    events?.error(error);
    throw error;
  }
}

async function createTorrentFile(
  path: string,
  flags: CreateFlags,
  events: EventStream | null,
  output: CommandOutput,
): Promise<void> {
  const args = { path };
  const started = performance.now();
  const version: TorrentVersion = flags.v2 ? 'v2' : flags.hybrid ? 'hybrid' : 'v1';
  const pieceLength =
    flags['piece-length'] === 'auto' ? 'auto' : parseSize(flags['piece-length'], 'piece length');
  const announce = (flags.announce ?? []).map((tier) =>
    tier
      .split(',')
      .map((url) => url.trim())
      .filter(Boolean),
  );
  for (const url of announce.flat()) {
    if (!/^(https?|udp):\/\/\S+$/i.test(url))
      throw new UsageError(`invalid --announce URL "${url}": use http, https or udp`);
  }
  checkWebSeedUrls(flags['web-seed'] ?? []);
  const toStdout = flags.out === '-';
  if (toStdout && (flags.json || flags.magnet || flags.events))
    throw new UsageError(
      '--out - writes the torrent to stdout; it cannot be combined with --json, --events or --magnet',
    );

  // The torrent's name is the input's base name: decide (and check) where it goes before
  // hashing, so an existing output is refused at once instead of after minutes of work.
  const out = toStdout ? null : resolve(flags.out ?? `${basename(resolve(args.path))}.torrent`);
  if (out) await refuseExistingOutput(out, flags.force ?? false);

  const mode = flags.json || toStdout ? 'quiet' : decideOutputMode(flags);
  let progress: ByteProgress | null = null;
  // The pool is ours rather than createTorrent's so that the command need not wait for its
  // threads to stop: the CLI exits as soon as this returns, which stops them. Waiting took
  // 25-50 ms after a small job on a quiet machine and 100-250 ms on a busy one (a thread
  // still starting must finish starting first), longer than the job itself.
  const pool = createHashPool(flags.threads, args.path);
  let result: CreateResult;
  try {
    result = await createTorrent(
      {
        path: args.path,
        version,
        pieceLength,
        announce,
        private: flags.private,
        comment: flags.comment ?? null,
        source: flags.source ?? null,
        webSeeds: flags['web-seed'] ?? [],
        createdBy: `shoal/${packageJson.version}`,
        creationDate: flags['no-date'] ? null : new Date(),
        pool,
        exclude: flags.exclude ?? [],
        includeHidden: flags['include-hidden'],
      },
      ({ bytesHashed, totalBytes }) => {
        progress ??= createByteProgress(mode, 'hashing', totalBytes, {
          onBytes: events?.bytes('hashing', totalBytes),
        });
        progress.update(bytesHashed);
      },
    );
  } finally {
    pool.destroy().catch(() => {});
  }
  (progress as ByteProgress | null)?.stop();

  const magnet = toMagnet({
    infoHash: result.infoHash,
    infoHashV2: result.infoHashV2,
    name: result.name,
    trackers: announce,
    webSeeds: flags['web-seed'] ?? [],
  });
  if (!out) {
    process.stdout.write(result.torrentBytes);
    return;
  }
  await writeOutputFile(out, result.torrentBytes, flags.force ?? false);
  const doc = {
    torrent: out,
    name: result.name,
    infoHash: result.infoHash ? toHex(result.infoHash) : null,
    infoHashV2: result.infoHashV2 ? toHex(result.infoHashV2) : null,
    magnet,
    version: result.version,
    pieceLength: result.pieceLength,
    pieceCount: result.pieceCount,
    totalSize: result.totalSize,
    fileCount: result.fileCount,
    skipped: result.skipped,
    seconds: Math.round(((performance.now() - started) / 1000) * 1000) / 1000,
  };
  events?.emit('done', { command: 'create', ...doc });
  if (flags.json) {
    output.stdout(JSON.stringify(doc));
  } else if (!flags.events) {
    for (const entry of result.skipped)
      if (!flags.quiet) process.stderr.write(`skipped ${entry.path}: ${entry.reason}\n`);
    output.stdout(flags.magnet ? magnet : out);
  }
}
