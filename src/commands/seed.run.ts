import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError, VerifyError } from '../core/errors.ts';
import { createTorrent, type CreatedFile } from '../core/create/build-torrent.ts';
import { HashPool } from '../core/hashing/pool.ts';
import { parseTorrent, toHex, toMagnet } from '../core/metainfo/index.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import { loadSource } from '../core/source/load-source.ts';
import { TorrentSession, type SessionSummary } from '../core/session/torrent-session.ts';
import { afterRun } from '../core/script/after-run.ts';
import { hookFromFlags } from '../core/script/hook.ts';
import { exitStatusOf, roundSeconds, torrentRoot } from '../core/script/outcome.ts';
import { renameNote, type StorageFile } from '../core/storage/disk-paths.ts';
import type { DiskStorage } from '../core/storage/disk-storage.ts';
import { refuseNonDirectory } from '../core/storage/out-dir.ts';
import { refuseExistingOutput, writeOutputFile } from '../core/storage/output-file.ts';
import { formatBytes, formatRate } from '../ui/format.ts';
import { SessionUi } from '../ui/session-ui.ts';
import { clientFromFlags } from './connection-client.ts';
import { parseSeedUntilFlag, watchSeedUntil } from './seed-until-flag.ts';
import { buildSources, discoveryChoices } from './discovery-choices.ts';
import { handleSignals } from './signals.ts';
import type { Interfaces } from '@oclif/core';
import packageJson from '../../package.json' with { type: 'json' };
import type Seed from './seed.ts';
import type { RunOutput } from './download.run.ts';

type SeedFlags = Interfaces.InferredFlags<typeof Seed.flags>;

/** What `shoal seed` does (the flags and help live in seed.ts). */
export async function seed(
  args: { source: string },
  flags: SeedFlags,
  output: RunOutput,
): Promise<void> {
  const ui = new SessionUi('seed', args.source, flags, packageJson.version);
  const seedRatio = flags['seed-ratio'];
  const pool = new HashPool({ threads: flags.threads });
  const client = clientFromFlags(flags, pool);
  let served: { meta: Metainfo; dataDir: string } | null = null;
  let session: TorrentSession | null = null;
  let summary: SessionSummary | null = null;
  const startedAt = Date.now();
  let failure: unknown = null;
  try {
    const seedUntil = parseSeedUntilFlag(flags['seed-until']);
    const { meta, dataDir, torrentPath, followLinks } = await resolveTorrent(
      args.source,
      flags,
      pool,
    );
    served = { meta, dataDir };
    const magnet = toMagnet(meta);
    if (!flags.json && !flags.events) {
      output.stdout(magnet);
      if (torrentPath) output.stdout(torrentPath);
    }
    const abort = new AbortController();
    const choices = discoveryChoices(flags, meta);
    await client.start();
    session = new TorrentSession({
      meta,
      outDir: dataDir,
      hashPool: pool,
      client,
      maxPeers: flags['max-peers'],
      uploadLimit: flags['upload-limit'],
      seedTimeMs: flags['seed-time'],
      seedRatio,
      // --seed-until ends seeding from outside the session (watchSeedUntil).
      seedForever: flags['seed-time'] === undefined && seedRatio === undefined,
      requireComplete: true,
      readOnly: true,
      followLinks,
      discoveries: buildSources(choices, ui),
      version: packageJson.version,
      signal: abort.signal,
    });
    ui.attach(session, meta, { selected: null, outDir: dataDir, magnet });
    let endedBy: string | null = null;
    const stopWatch = seedUntil
      ? watchSeedUntil(session, seedUntil, meta, choices.trackers.flat(), (because) => {
          endedBy = because;
          ui.notice(`seed ${meta.name}: seeding ended: ${because}`);
        })
      : () => {};
    const stopSignals = handleSignals(() => abort.abort(), ui.notice);
    try {
      const running = session;
      summary = await running.run().catch((error: unknown) => {
        throw withRenameNotes(error, running.storage, meta);
      });
      await ui.close();
      const result = {
        name: meta.name,
        infoHash: toHex(session.infoHash),
        magnet,
        torrent: torrentPath,
        data: dataDir,
        uploaded: summary.uploaded,
        seconds: roundSeconds(summary.seconds),
        peers: summary.peers,
        status: summary.status,
        ...(endedBy ? { endedBy } : {}),
      };
      if (flags.json) output.stdout(JSON.stringify(result));
      ui.done(result);
    } finally {
      stopWatch();
      stopSignals();
    }
  } catch (error) {
    failure = await ui.fail(error);
  } finally {
    await client.close();
    await pool.destroy();
  }
  const stats = session?.stats();
  const { meta, dataDir } = served ?? { meta: null, dataDir: resolve(flags.data ?? '.') };
  const late = await afterRun(
    {
      status: exitStatusOf(failure),
      name: meta?.name ?? '',
      infoHash: meta?.infoHash ? toHex(meta.infoHash) : '',
      infoHashV2: meta?.infoHashV2 ? toHex(meta.infoHashV2) : '',
      out: dataDir,
      path: meta ? torrentRoot(meta, dataDir) : '',
      bytes: summary?.uploaded ?? stats?.uploaded ?? 0,
      size: meta?.totalSize ?? 0,
      seconds: roundSeconds(summary?.seconds ?? (Date.now() - startedAt) / 1000),
      peers: summary?.peers ?? stats?.peers ?? 0,
      receipt: null,
    },
    {
      command: 'seed',
      hook: hookFromFlags(
        'on-seed-done',
        flags['on-seed-done'],
        flags['on-seed-done-shell'],
        flags['on-seed-done-timeout'],
      ),
      hookRequired: flags['on-seed-done-required'],
      format: { bytes: formatBytes, rate: formatRate },
      notify: (line) => process.stderr.write(`${line}\n`),
    },
  );
  if (failure !== null) throw failure;
  if (late) throw late;
}

async function resolveTorrent(
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
    const dataDir = resolve(flags.data ?? '.');
    // Before the magnet is printed and the view starts: a --data that is a file gets one line.
    refuseNonDirectory(dataDir, { creates: false });
    return {
      meta: loaded.meta,
      dataDir,
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
    meta: servedFromWhereRead(parseTorrent(created.torrentBytes), created.files),
    dataDir: info.isDirectory() || info.isFile() ? dirname(absolute) : absolute,
    torrentPath,
    followLinks: true,
  };
}

/**
 * The torrent made from a path, with each file's `diskPath` set to where
 * `create` read it (its name plus the walked path). A download lays the files
 * out under sanitized, collision-free names (`README (1).TXT` beside
 * `Readme.txt`), which need not exist here. The session hands `meta.files` to
 * its storage as they are, which reads `diskPath` (storage/disk-paths.ts).
 */
function servedFromWhereRead(meta: Metainfo, read: readonly CreatedFile[]): Metainfo {
  if (read.length !== meta.files.length)
    throw new Error('internal: the created torrent and its files do not match');
  const files: StorageFile[] = meta.files.map((file, i) => ({ ...file, diskPath: read[i].path }));
  return { ...meta, files };
}

/**
 * Incomplete data (exit 6) where a file renamed for a name collision is not on
 * disk under either name: say which name shoal looked for and why, since the
 * data directory may well hold the other spelling.
 */
function withRenameNotes(error: unknown, storage: DiskStorage, meta: Metainfo): unknown {
  if (!(error instanceof VerifyError)) return error;
  const absent = (index: number): boolean => {
    try {
      return storage.fileSize(storage.filePath(index)) < 0;
    } catch {
      return false; // refused (a symlink): the error already says what is wrong
    }
  };
  const missing = meta.files.flatMap((file, i) =>
    file.renamedFrom && absent(i) ? [renameNote(file)] : [],
  );
  if (missing.length === 0) return error;
  const more = missing.length > 3 ? `, and ${missing.length - 3} more` : '';
  return new VerifyError(`${error.message}; missing ${missing.slice(0, 3).join(', ')}${more}`, {
    cause: error,
  });
}
