import type { Interfaces } from '@oclif/core';
import { resolve, join } from 'node:path';
import { UsageError, VerifyError } from '../core/errors.ts';
import { HashPool } from '../core/hashing/pool.ts';
import { toHex } from '../core/metainfo/index.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import type { PeerAddress } from '../core/net/peer-address.ts';
import { TorrentSession } from '../core/session/torrent-session.ts';
import { loadSource } from '../core/source/load-source.ts';
import { resolveMagnet } from '../core/source/resolve-magnet.ts';
import { refuseExistingOutput, writeOutputFile } from '../core/storage/output-file.ts';
import { oversizedFiles } from '../core/verify/oversized-files.ts';
import { SessionUi } from '../ui/session-ui.ts';
import { discoveryChoices } from './discovery-flags.ts';
import { parseSelection } from './flags.ts';
import { handleSignals } from './signals.ts';
import packageJson from '../../package.json' with { type: 'json' };
import type Download from './download.ts';

type DownloadFlags = Interfaces.InferredFlags<typeof Download.flags>;

/** Where the result goes: the command passes oclif's log (stdout, flushed by the CLI). */
export interface RunOutput {
  stdout(line: string): void;
}

/** What `shoal download` does (the flags and help live in download.ts). */
export async function download(
  args: { source: string },
  flags: DownloadFlags,
  output: RunOutput,
): Promise<void> {
  const ui = new SessionUi('download', args.source, flags, packageJson.version);
  const seedRatio = flags['seed-ratio'];
  const abort = new AbortController();
  const stopSignals = handleSignals(() => abort.abort(), ui.notice);
  try {
    // Refused before the metadata fetch, which can take minutes.
    if (flags['save-torrent'])
      await refuseExistingOutput(resolve(flags['save-torrent']), flags.force);
    const { meta, firstPeers, magnetSelection } = await loadTorrent(
      args.source,
      flags,
      ui,
      abort.signal,
    );
    const selected = flags.select ? parseSelection(flags.select) : magnetSelection;
    validateSelection(selected, meta);
    await runSession(meta, selected, firstPeers, flags, ui, seedRatio, abort.signal, output);
  } catch (error) {
    throw await ui.fail(error);
  } finally {
    stopSignals();
  }
}

/** A .torrent (file, URL, stdin) as is, or a magnet link resolved through peers. */
async function loadTorrent(
  text: string,
  flags: DownloadFlags,
  ui: SessionUi,
  signal: AbortSignal,
): Promise<{ meta: Metainfo; firstPeers: PeerAddress[]; magnetSelection: number[] | null }> {
  const source = await loadSource(text);
  if (source.kind === 'torrent')
    return { meta: source.meta, firstPeers: [], magnetSelection: null };
  const { magnet } = source;
  const isPrivate = false; // unknown before the metadata; a magnet never marks privacy
  const resolved = await resolveMagnet({
    magnet,
    discoveries: ui.discoveries(
      discoveryChoices(flags, {
        trackers: magnet.trackers,
        private: isPrivate,
        peers: magnet.peers,
      }),
    ),
    version: packageJson.version,
    timeoutMs: flags.timeout ?? DEFAULT_METADATA_TIMEOUT_MS,
    maxPeers: flags['max-peers'],
    signal,
    onEvent: ui.metadata(magnet.name ?? toHex(magnet.infoHash ?? magnet.infoHashV2!)),
  });
  if (flags['save-torrent']) {
    await writeOutputFile(resolve(flags['save-torrent']), resolved.torrentBytes, flags.force);
  }
  return { meta: resolved.meta, firstPeers: resolved.peers, magnetSelection: magnet.selectOnly };
}

async function runSession(
  meta: Metainfo,
  selected: number[] | null,
  firstPeers: PeerAddress[],
  flags: DownloadFlags,
  ui: SessionUi,
  seedRatio: number | undefined,
  signal: AbortSignal,
  output: RunOutput,
): Promise<void> {
  const pool = new HashPool({ threads: flags.threads });
  const choices = discoveryChoices(flags, meta);
  const session = new TorrentSession({
    meta,
    outDir: resolve(flags.out),
    hashPool: pool,
    selectedFiles: selected ? new Set(selected) : null,
    port: flags.port,
    maxPeers: flags['max-peers'],
    downloadLimit: flags['download-limit'],
    uploadLimit: flags['upload-limit'],
    stallTimeoutMs: flags.timeout,
    seedTimeMs: flags['seed-time'],
    seedRatio,
    discoveries: ui.discoveries({ ...choices, peers: [...firstPeers, ...choices.peers] }),
    version: packageJson.version,
    signal,
  });
  ui.attach(session, meta, { selected, outDir: resolve(flags.out), verify: flags.verify });
  try {
    const summary = await session.run();
    if (flags.verify) {
      const { good, wanted } = await session.recheck();
      ui.verified(good, wanted);
      if (good < wanted)
        throw new VerifyError(
          `${wanted - good} of ${wanted} pieces on disk do not match the torrent`,
        );
      const longer = oversizedFiles(session.storage, meta.files);
      if (longer.length > 0)
        throw new VerifyError(
          `longer on disk than the torrent says (extra bytes past its end): ${longer.join(', ')}`,
        );
    }
    await ui.close();
    const result = {
      name: meta.name,
      infoHash: toHex(session.infoHash),
      out: resolve(flags.out),
      files: meta.files
        .map((file, index) => ({ file, index }))
        .filter(({ file }) => !file.padding)
        .map(({ file, index }) => ({
          path: file.path.join('/'),
          length: file.length,
          selected: !selected || selected.includes(index),
        })),
      downloaded: summary.downloaded,
      uploaded: summary.uploaded,
      seconds: Math.round(summary.seconds * 1000) / 1000,
      peers: summary.peers,
      status: summary.status,
    };
    const path = join(
      resolve(flags.out),
      meta.multiFile ? meta.name : meta.files[0].path.join('/'),
    );
    // With --events stdout is the event stream: the result is its `done` line.
    if (flags.json) output.stdout(JSON.stringify(result));
    else if (!flags.events) output.stdout(path);
    ui.done({ ...result, path });
  } finally {
    await pool.destroy();
  }
}

/** How long a magnet download looks for metadata when --timeout is not given. */
const DEFAULT_METADATA_TIMEOUT_MS = 10 * 60_000;

function validateSelection(selected: number[] | null, meta: Metainfo): void {
  for (const index of selected ?? []) {
    if (index >= meta.files.length) {
      throw new UsageError(
        `--select: no file ${index}; the torrent has files 0-${meta.files.length - 1}`,
      );
    }
    if (meta.files[index].padding)
      throw new UsageError(`--select: file ${index} is a padding file`);
  }
}
