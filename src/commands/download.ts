import { Args, Command, Flags, type Interfaces } from '@oclif/core';
import { writeFile } from 'node:fs/promises';
import { resolve, join } from 'node:path';
import { diskErrorFrom, UsageError, VerifyError } from '../core/errors.ts';
import { HashPool } from '../core/hashing/pool.ts';
import { toHex } from '../core/metainfo/index.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import type { PeerAddress } from '../core/peer/peer-connection.ts';
import { TorrentSession } from '../core/session/torrent-session.ts';
import { loadSource } from '../core/source/load-source.ts';
import { resolveMagnet } from '../core/source/resolve-magnet.ts';
import { SessionUi } from '../ui/session-ui.ts';
import { discoveryChoices, discoveryFlags } from './discovery-flags.ts';
import {
  durationFlag,
  eventsFlag,
  outputFlags,
  parseSelection,
  ratioFlag,
  sizeFlag,
} from './flags.ts';
import { handleSignals } from './signals.ts';
import packageJson from '../../package.json' with { type: 'json' };

export default class Download extends Command {
  static override summary = 'Download a torrent or magnet link, verify every piece, and exit.';
  static override description = `Exits 0 once every selected piece is on disk and verified (no seeding afterwards unless --seed-time or --seed-ratio is given).
Data already in the output directory is checked first, so rerunning an interrupted download resumes it.
A magnet link or bare info-hash is resolved first: peers from its trackers, x.pe addresses, --peer, the DHT and PEX
send the torrent's metadata (give up after --timeout, default 10m, with exit 4).
Exit codes: 0 done, 2 bad usage, 3 bad torrent, 4 network (no peers, stalled past --timeout), 5 disk, 6 verification failed, 130 interrupted.`;

  static override examples = [
    '<%= config.bin %> download ubuntu.iso.torrent -o ~/Downloads',
    '<%= config.bin %> download https://example.org/file.torrent --timeout 10m --json',
    '<%= config.bin %> download data.torrent --select 0,2-4 --peer 10.0.0.2:6881',
    'curl -s https://example.org/x.torrent | <%= config.bin %> download - --seed-ratio 1.0',
    "<%= config.bin %> download 'magnet:?xt=urn:btih:...' --save-torrent x.torrent --timeout 5m",
    '<%= config.bin %> download 3f9aac158c7de8dfcab171ea58a17aabdf7fbc93 --no-dht --tracker udp://tracker.example.org:6969',
  ];

  static override args = {
    source: Args.string({
      required: true,
      description:
        '.torrent file, - for stdin, http(s) URL of a .torrent, magnet link, or info-hash',
    }),
  };

  static override flags = {
    out: Flags.string({
      char: 'o',
      description: 'directory to download into',
      default: '.',
      env: 'SHOAL_OUT',
    }),
    select: Flags.string({
      description: 'only these files, by index as `shoal inspect --files` lists them (e.g. 0,2-4)',
    }),
    'seed-time': durationFlag({
      description: 'keep seeding this long after completion (e.g. 30m)',
    }),
    'seed-ratio': ratioFlag({
      description: 'keep seeding until uploaded/downloaded reaches this ratio (e.g. 1.0)',
    }),
    ...discoveryFlags,
    'save-torrent': Flags.string({
      description: 'with a magnet link: also write the fetched metainfo to this .torrent file',
    }),
    port: Flags.integer({
      description: 'port to listen on for peers (0 = any free port)',
      default: 0,
      env: 'SHOAL_PORT',
      min: 0,
      max: 65535,
    }),
    'max-peers': Flags.integer({
      description: 'most peer connections at once',
      default: 50,
      env: 'SHOAL_MAX_PEERS',
      min: 1,
      max: 2000,
    }),
    'download-limit': sizeFlag({
      description: 'download rate cap per second (e.g. 5MiB); default unlimited',
      env: 'SHOAL_DOWNLOAD_LIMIT',
    }),
    'upload-limit': sizeFlag({
      description: 'upload rate cap per second (e.g. 1MiB); default unlimited',
      env: 'SHOAL_UPLOAD_LIMIT',
    }),
    timeout: durationFlag({
      description: 'give up (exit 4) after this long without progress (e.g. 10m); default never',
    }),
    verify: Flags.boolean({
      description:
        'after downloading, re-read all data from disk and verify it (exit 6 on mismatch)',
    }),
    threads: Flags.integer({
      description: 'hashing threads (default: one per core)',
      env: 'SHOAL_THREADS',
      min: 1,
      max: 256,
    }),
    ...outputFlags,
    ...eventsFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Download);
    const ui = new SessionUi('download', args.source, flags, packageJson.version);
    const seedRatio = flags['seed-ratio'];
    const abort = new AbortController();
    const stopSignals = handleSignals(() => abort.abort(), ui.notice);
    try {
      const { meta, firstPeers, magnetSelection } = await this.#loadTorrent(
        args.source,
        flags,
        ui,
        abort.signal,
      );
      const selected = flags.select ? parseSelection(flags.select) : magnetSelection;
      validateSelection(selected, meta);
      await this.#download(meta, selected, firstPeers, flags, ui, seedRatio, abort.signal);
    } catch (error) {
      throw await ui.fail(error);
    } finally {
      stopSignals();
    }
  }

  /** A .torrent (file, URL, stdin) as is, or a magnet link resolved through peers. */
  async #loadTorrent(
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
      const path = resolve(flags['save-torrent']);
      await writeFile(path, resolved.torrentBytes).catch((error: unknown) => {
        throw diskErrorFrom(error, 'write', path);
      });
    }
    return { meta: resolved.meta, firstPeers: resolved.peers, magnetSelection: magnet.selectOnly };
  }

  async #download(
    meta: Metainfo,
    selected: number[] | null,
    firstPeers: PeerAddress[],
    flags: DownloadFlags,
    ui: SessionUi,
    seedRatio: number | undefined,
    signal: AbortSignal,
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
    ui.attach(session, meta, { selected, outDir: resolve(flags.out) });
    try {
      const summary = await session.run();
      await ui.close();
      if (flags.verify) {
        const { good, wanted } = await session.recheck();
        if (good < wanted)
          throw new VerifyError(
            `${wanted - good} of ${wanted} pieces on disk do not match the torrent`,
          );
      }
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
      if (flags.json) this.log(JSON.stringify(result));
      else if (!flags.events) this.log(path);
      ui.done({ ...result, path });
    } finally {
      await pool.destroy();
    }
  }
}

/** How long a magnet download looks for metadata when --timeout is not given. */
const DEFAULT_METADATA_TIMEOUT_MS = 10 * 60_000;

type DownloadFlags = Interfaces.InferredFlags<typeof Download.flags>;

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
