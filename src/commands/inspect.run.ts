import type { Interfaces } from '@oclif/core';
import { resolve } from 'node:path';
import { UsageError, VerifyError } from '../core/errors.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import { loadSource } from '../core/source/load-source.ts';
import { diskPaths, renameNote } from '../core/storage/disk-paths.ts';
import { OutDir } from '../core/storage/out-dir.ts';
import type { VerifyResult } from '../core/verify/verify-data.ts';
import { createByteProgress } from '../ui/byte-progress.ts';
import { eventStreamFor, type EventStream } from '../ui/events.ts';
import { decideOutputMode } from '../ui/output-mode.ts';
import { discoveryChoices } from './discovery-choices.ts';
import packageJson from '../../package.json' with { type: 'json' };
import type Inspect from './inspect.ts';
import type { CommandOutput } from './command-output.ts';
import { printMagnet, printSummary } from './inspect.show.ts';

/** What `shoal inspect` does (the flags and help live in inspect.ts). */
type InspectFlags = Interfaces.InferredFlags<typeof Inspect.flags>;

export async function inspect(
  args: { source: string },
  flags: InspectFlags,
  output: CommandOutput,
): Promise<void> {
  if (flags.events && !flags.verify)
    throw new UsageError('--events streams the progress of --verify; use --json for the summary');
  const events = eventStreamFor(flags);
  events?.start('inspect', args.source, packageJson.version);
  try {
    await inspectSource(args.source, flags, events, output);
  } catch (error) {
    events?.error(error);
    throw error;
  }
}

async function inspectSource(
  sourceText: string,
  flags: InspectFlags,
  events: EventStream | null,
  output: CommandOutput,
): Promise<void> {
  const args = { source: sourceText };
  let source = await loadSource(args.source);
  if (source.kind === 'magnet' && flags.fetch) {
    // The peer-finding stack (trackers, DHT, wire) loads only for --fetch.
    const [{ buildDiscoveries }, { resolveMagnet }, { createMetadataView }] = await Promise.all([
      import('../core/discovery/build-discoveries.ts'),
      import('../core/source/resolve-magnet.ts'),
      import('../ui/metadata-view.ts'),
    ]);
    const { magnet } = source;
    const resolved = await resolveMagnet({
      magnet,
      discoveries: buildDiscoveries(
        discoveryChoices(flags, {
          trackers: magnet.trackers,
          private: false,
          peers: magnet.peers,
        }),
      ),
      version: packageJson.version,
      timeoutMs: flags.timeout ?? 120_000,
      onEvent: createMetadataView(
        flags.json ? 'quiet' : decideOutputMode(flags),
        magnet.name ?? 'magnet',
      ),
    });
    source = {
      kind: 'torrent',
      meta: resolved.meta,
      bytes: resolved.torrentBytes,
      origin: args.source,
    };
  }
  if (source.kind === 'magnet') {
    if (flags.verify)
      throw new VerifyError(
        '--verify needs the torrent metadata: pass the .torrent file, not a magnet link',
      );
    printMagnet(source.magnet, flags.json ?? false, output);
    return;
  }
  const meta = source.meta;
  let verification: VerifyResult | null = null;
  if (flags.verify) {
    events?.metadata(meta, null);
    const dir = resolve(flags.verify);
    // The hashing stack (piscina, worker threads) loads only when there is hashing to do.
    const [{ HashPool }, { verifyData }] = await Promise.all([
      import('../core/hashing/pool.ts'),
      import('../core/verify/verify-data.ts'),
    ]);
    const pool = new HashPool({ threads: flags.threads });
    const progress = createByteProgress(
      flags.json ? 'quiet' : decideOutputMode(flags),
      'verify',
      meta.totalSize,
      { onBytes: events?.bytes('verifying', meta.totalSize) },
    );
    try {
      verification = await verifyData(onDisk(meta, dir), dir, pool, (bytes) =>
        progress.update(bytes),
      );
    } finally {
      progress.stop();
      await pool.destroy();
    }
  }
  if (events && verification) {
    // A mismatch ends the stream with the `error` line of the VerifyError below instead.
    if (verification.ok) events.emit('done', { command: 'inspect', ...verification });
  } else {
    printSummary(
      meta,
      verification,
      { json: flags.json ?? false, files: flags.files ?? false },
      (text) => process.stdout.write(text),
    );
  }
  if (verification && !verification.ok) {
    throw new VerifyError(verifyFailure(verification, meta));
  }
}

/**
 * The torrent with each file's path where it lies under `dir`: its own path,
 * or, for a file renamed because of a name collision, the original name when
 * another client left it there (storage/disk-paths.ts).
 */
function onDisk(meta: Metainfo, dir: string): Metainfo {
  const paths = diskPaths(meta.files, new OutDir(dir));
  return { ...meta, files: meta.files.map((file, i) => ({ ...file, path: paths[i] })) };
}

/** One line: how many pieces failed, and which files (the first few by name). */
function verifyFailure(result: VerifyResult, meta: Metainfo): string {
  const affected = result.files.filter((f) => f.status !== 'ok');
  const named = affected.slice(0, 3).map((f) => {
    const status = f.status === 'oversized' ? 'longer than the torrent says' : f.status;
    // A missing renamed file: say why shoal expected that name.
    const shown = f.status === 'missing' ? renameNote(meta.files[f.index]) : f.path;
    return `${shown} (${status})`;
  });
  const more = affected.length > named.length ? `, and ${affected.length - named.length} more` : '';
  return `data in ${result.dir} does not match: ${result.badPieces + result.missingPieces} of ${result.pieceCount} pieces bad or missing, ${affected.length} file(s) affected: ${named.join(', ')}${more}`;
}
