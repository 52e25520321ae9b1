import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { createTorrent } from '../core/create/build-torrent.ts';
import { HashPool } from '../core/hashing/pool.ts';
import { parseTorrent, toHex, toMagnet } from '../core/metainfo/index.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import { loadSource } from '../core/source/load-source.ts';
import { TorrentSession } from '../core/session/torrent-session.ts';
import { refuseExistingOutput, writeOutputFile } from '../core/storage/output-file.ts';
import { SessionUi } from '../ui/session-ui.ts';
import { discoveryChoices } from './discovery-flags.ts';
import { handleSignals } from './signals.ts';
import packageJson from '../../package.json' with { type: 'json' };
import Seed from './seed.ts';

/** What `shoal seed` does (the flags and help live in seed.ts). */
export class SeedRun extends Seed {
  override async run(): Promise<void> {
    const { args, flags } = await this.parse(Seed);
    const ui = new SessionUi('seed', args.source, flags, packageJson.version);
    const seedRatio = flags['seed-ratio'];
    const pool = new HashPool({ threads: flags.threads });
    try {
      const { meta, dataDir, torrentPath, followLinks } = await this.#resolveTorrent(
        args.source,
        flags,
        pool,
      );
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
        followLinks,
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
    flags: { data?: string; out?: string; force: boolean; announce?: string[] },
    pool: HashPool,
  ): Promise<{
    meta: Metainfo;
    dataDir: string;
    torrentPath: string | null;
    /** Seeding a path the user named: its symlinks were followed when hashing it, so follow them. */
    followLinks: boolean;
  }> {
    const isTorrent = /\.torrent$/i.test(source) || /^https?:\/\//i.test(source) || source === '-';
    if (isTorrent) {
      if (flags.out || flags.announce)
        throw new UsageError('--out and --announce apply only when seeding a file or directory');
      const loaded = await loadSource(source);
      if (loaded.kind !== 'torrent')
        throw new UsageError('seed needs a .torrent file or a path to share');
      return {
        meta: loaded.meta,
        dataDir: resolve(flags.data ?? '.'),
        torrentPath: null,
        followLinks: false,
      };
    }
    if (flags.data)
      throw new UsageError(
        '--data applies only when seeding a .torrent; a path is served from where it is',
      );
    // Refused before hashing, which can take minutes.
    const torrentPath = flags.out ? resolve(flags.out) : null;
    if (torrentPath) await refuseExistingOutput(torrentPath, flags.force);
    const created = await createTorrent({
      path: source,
      version: 'v1',
      pieceLength: 'auto',
      announce: (flags.announce ?? []).map((url) => [url]),
      createdBy: `shoal/${packageJson.version}`,
      creationDate: new Date(),
      pool,
    });
    if (torrentPath) await writeOutputFile(torrentPath, created.torrentBytes, flags.force);
    const absolute = resolve(source);
    const info = await stat(absolute);
    // The torrent's name is the path's base name, so the data lives in its parent directory.
    return {
      meta: parseTorrent(created.torrentBytes),
      dataDir: info.isDirectory() || info.isFile() ? dirname(absolute) : absolute,
      torrentPath,
      followLinks: true,
    };
  }
}
