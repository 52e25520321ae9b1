import { Args, Command, Flags } from '@oclif/core';
import { stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { diskErrorFrom, UsageError } from '../core/errors.ts';
import { createTorrent } from '../core/create/build-torrent.ts';
import { HashPool } from '../core/hashing/pool.ts';
import { parseTorrent, toHex, toMagnet } from '../core/metainfo/index.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import { loadSource } from '../core/source/load-source.ts';
import { TorrentSession } from '../core/session/torrent-session.ts';
import { SessionUi } from '../ui/session-ui.ts';
import { discoveryChoices, discoveryFlags } from './discovery-flags.ts';
import { durationFlag, eventsFlag, outputFlags, ratioFlag, sizeFlag } from './flags.ts';
import { handleSignals } from './signals.ts';
import packageJson from '../../package.json' with { type: 'json' };

export default class Seed extends Command {
  static override summary =
    'Serve data to other peers: from a .torrent and its data, or straight from a path.';
  static override description = `With a .torrent, the data in --data is verified first (exit 6 if incomplete), then served until stopped
(Ctrl-C, exit 130) or until --seed-time / --seed-ratio is reached (exit 0).
With a file or directory, a torrent is created in memory (v1, as shoal create), its magnet link is printed on stdout
(and the .torrent written to --out), and the data is served.
Exit codes: 0 goal reached, 2 bad usage, 3 bad torrent, 4 network, 5 disk, 6 data does not match, 130 stopped.`;

  static override examples = [
    '<%= config.bin %> seed ubuntu.iso.torrent -d ~/Downloads',
    '<%= config.bin %> seed ./release -o release.torrent -a udp://tracker.example.org:6969/announce',
    '<%= config.bin %> seed build.torrent -d ./out --seed-ratio 2 --port 6881',
  ];

  static override args = {
    source: Args.string({
      required: true,
      description: '.torrent file (or URL), or a file/directory to share',
    }),
  };

  static override flags = {
    data: Flags.string({
      char: 'd',
      description: 'directory holding the data (default: current directory)',
    }),
    out: Flags.string({ char: 'o', description: 'when seeding a path: write its .torrent here' }),
    announce: Flags.string({
      char: 'a',
      description: 'when seeding a path: tracker URL for its torrent (repeatable)',
      multiple: true,
    }),
    ...discoveryFlags,
    port: Flags.integer({
      description: 'port to listen on (0 = any free port)',
      default: 6881,
      env: 'SHOAL_PORT',
      min: 0,
      max: 65535,
    }),
    'seed-time': durationFlag({ description: 'stop after seeding this long (e.g. 2h)' }),
    'seed-ratio': ratioFlag({
      description: 'stop once uploaded reaches this multiple of the torrent size',
    }),
    'max-peers': Flags.integer({
      description: 'most peer connections at once',
      default: 200,
      env: 'SHOAL_MAX_PEERS',
      min: 1,
      max: 5000,
    }),
    'upload-limit': sizeFlag({
      description: 'upload rate cap per second (e.g. 10MiB)',
      env: 'SHOAL_UPLOAD_LIMIT',
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
    const { args, flags } = await this.parse(Seed);
    const ui = new SessionUi('seed', args.source, flags, packageJson.version);
    const seedRatio = flags['seed-ratio'];
    const pool = new HashPool({ threads: flags.threads });
    try {
      const { meta, dataDir, torrentPath } = await this.#resolveTorrent(args.source, flags, pool);
      const magnet = toMagnet(meta);
      if (!flags.json && !flags.events) {
        this.log(magnet);
        if (torrentPath) this.log(torrentPath);
      }
      const abort = new AbortController();
      const session = new TorrentSession({
        meta,
        outDir: dataDir,
        hashPool: pool,
        port: flags.port,
        maxPeers: flags['max-peers'],
        uploadLimit: flags['upload-limit'],
        seedTimeMs: flags['seed-time'],
        seedRatio,
        seedForever: flags['seed-time'] === undefined && seedRatio === undefined,
        requireComplete: true,
        readOnly: true,
        discoveries: ui.discoveries(discoveryChoices(flags, meta)),
        version: packageJson.version,
        signal: abort.signal,
      });
      ui.attach(session, meta, { selected: null, outDir: dataDir, magnet });
      const stopSignals = handleSignals(() => abort.abort(), ui.notice);
      try {
        const summary = await session.run();
        await ui.close();
        const result = {
          name: meta.name,
          infoHash: toHex(session.infoHash),
          magnet,
          torrent: torrentPath,
          data: dataDir,
          uploaded: summary.uploaded,
          seconds: Math.round(summary.seconds * 1000) / 1000,
          peers: summary.peers,
          status: summary.status,
        };
        if (flags.json) this.log(JSON.stringify(result));
        ui.done(result);
      } finally {
        stopSignals();
      }
    } catch (error) {
      throw await ui.fail(error);
    } finally {
      await pool.destroy();
    }
  }

  async #resolveTorrent(
    source: string,
    flags: { data?: string; out?: string; announce?: string[]; 'no-date'?: boolean },
    pool: HashPool,
  ): Promise<{ meta: Metainfo; dataDir: string; torrentPath: string | null }> {
    const isTorrent = /\.torrent$/i.test(source) || /^https?:\/\//i.test(source) || source === '-';
    if (isTorrent) {
      if (flags.out || flags.announce)
        throw new UsageError('--out and --announce apply only when seeding a file or directory');
      const loaded = await loadSource(source);
      if (loaded.kind !== 'torrent')
        throw new UsageError('seed needs a .torrent file or a path to share');
      return { meta: loaded.meta, dataDir: resolve(flags.data ?? '.'), torrentPath: null };
    }
    if (flags.data)
      throw new UsageError(
        '--data applies only when seeding a .torrent; a path is served from where it is',
      );
    const created = await createTorrent({
      path: source,
      version: 'v1',
      pieceLength: 'auto',
      announce: (flags.announce ?? []).map((url) => [url]),
      createdBy: `shoal/${packageJson.version}`,
      creationDate: new Date(),
      pool,
    });
    let torrentPath: string | null = null;
    if (flags.out) {
      torrentPath = resolve(flags.out);
      try {
        await writeFile(torrentPath, created.torrentBytes);
      } catch (error) {
        throw diskErrorFrom(error, 'write', torrentPath);
      }
    }
    const absolute = resolve(source);
    const info = await stat(absolute);
    // The torrent's name is the path's base name, so the data lives in its parent directory.
    return {
      meta: parseTorrent(created.torrentBytes),
      dataDir: info.isDirectory() || info.isFile() ? dirname(absolute) : absolute,
      torrentPath,
    };
  }
}
