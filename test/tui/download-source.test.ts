/**
 * DownloadSource (`shoal download --tui`'s adapter) over a real TorrentSession
 * that downloads a two-file torrent from a seeder on 127.0.0.1: the row before
 * the torrent is known, the row and every detail tab after the download, a
 * rerun whose data is found by the check, and the actions it refuses.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { staticPeers } from '../../src/core/discovery/discovery.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { DOWNLOAD_ID, DownloadSource } from '../../src/tui/download-source.ts';
import { ActionRefused, type TuiSource } from '../../src/tui/types.ts';
import { SourceCounters } from '../../src/ui/sources.ts';
import { FakePeer, seeder } from '../hostile/fake-peer.ts';
import { sessionFromPeer } from '../helpers/session.ts';

// The resume key goes to a temporary state dir, not the real home.
process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'shoal-state-'));

const PIECE = 16 * 1024;
const TRACKER = 'http://127.0.0.1:9/announce';
let root: string;
let meta: Metainfo;
let pool: HashPool;
let peer: FakePeer;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shoal-download-source-'));
  // Two files, the first exactly 4 pieces long, so no piece is shared between them.
  const first = randomBytes(4 * PIECE);
  const second = randomBytes(2 * PIECE + 1000);
  mkdirSync(join(root, 'album'));
  writeFileSync(join(root, 'album', 'a.bin'), first);
  writeFileSync(join(root, 'album', 'b.bin'), second);
  pool = new HashPool({ threads: 1 });
  const created = await createTorrent({
    path: join(root, 'album'),
    version: 'v1',
    pieceLength: PIECE,
    creationDate: null,
    announce: [[TRACKER]],
    pool,
  });
  meta = parseTorrent(created.torrentBytes);
  peer = await FakePeer.start(meta.infoHash!, seeder(Buffer.concat([first, second]), PIECE));
});

afterAll(async () => {
  await peer.stop();
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});

function newSource(): DownloadSource {
  return new DownloadSource({ name: 'album', outDir: root, version: '9.9.9', now: () => 5_000 });
}

function watch(source: DownloadSource, session: TorrentSession, selected: number[] | null) {
  const sources = new SourceCounters();
  source.attach(session, { selected, trackers: [[TRACKER]], sources });
  return sources;
}

describe('DownloadSource', () => {
  it('shows one placeholder row, with empty tabs, before the torrent is known', async () => {
    const source = newSource();
    const { full, torrents, removed } = await source.list();
    expect(full).toBe(true);
    expect(removed).toEqual([]);
    expect(torrents).toEqual([
      expect.objectContaining({
        id: DOWNLOAD_ID,
        name: 'album',
        status: 4,
        percentDone: 0,
        addedDate: 5,
      }),
    ]);
    expect((await source.detail(DOWNLOAD_ID, 'files')).files).toEqual([]);
    expect((await source.detail(DOWNLOAD_ID, 'peers')).peers).toEqual([]);
    expect((await source.detail(DOWNLOAD_ID, 'trackers')).trackers).toEqual([]);
    expect((await source.session()).downloadDir).toBe(root);
  });

  it('maps a real download: the row, files with the selection, pieces, trackers, Finished', async () => {
    const out = join(root, 'out-selected');
    const session = new TorrentSession({
      meta,
      outDir: out,
      hashPool: pool,
      port: 0,
      stallTimeoutMs: 20_000,
      selectedFiles: new Set([0]),
      discoveries: [staticPeers([{ host: '127.0.0.1', port: peer.port }])],
    });
    const source = newSource();
    const sources = watch(source, session, [0]);
    const seenPeers: string[] = [];
    // Peers are read while connected (after the run they are gone).
    session.on('piece-verified', () => {
      if (seenPeers.length === 0)
        void source.detail(DOWNLOAD_ID, 'peers').then((d) => {
          for (const p of d.peers ?? []) seenPeers.push(`${p.address}:${p.port} ${p.flagStr}`);
        });
    });
    sources.trackerResponse(TRACKER, 3);
    await session.run();

    const [row] = (await source.list()).torrents;
    expect(row).toMatchObject({
      name: 'album',
      percentDone: 1,
      sizeWhenDone: 4 * PIECE,
      downloadedEver: 4 * PIECE,
      error: 0,
    });
    expect(row!.isFinished).toBe(false);
    source.finish();
    const [finished] = (await source.list()).torrents;
    expect(finished).toMatchObject({ status: 0, isFinished: true, rateUpload: 0 });

    const files = (await source.detail(DOWNLOAD_ID, 'files')).files!;
    expect(
      files.map(({ name, length, bytesCompleted, wanted }) => ({
        name,
        length,
        bytesCompleted,
        wanted,
      })),
    ).toEqual([
      { name: 'album/a.bin', length: 4 * PIECE, bytesCompleted: 4 * PIECE, wanted: true },
      { name: 'album/b.bin', length: 2 * PIECE + 1000, bytesCompleted: 0, wanted: false },
    ]);

    const pieces = (await source.detail(DOWNLOAD_ID, 'pieces')).pieces!;
    expect(pieces.pieceCount).toBe(7);
    expect([...pieces.bitfield]).toEqual([0b1111_0000]);

    const [tracker] = (await source.detail(DOWNLOAD_ID, 'trackers')).trackers!;
    expect(tracker).toMatchObject({
      tier: 0,
      announce: TRACKER,
      lastAnnounceSucceeded: true,
      lastAnnounceResult: 'Success (3 peers)',
      lastAnnounceTime: 5,
    });
    expect(seenPeers).toEqual([`127.0.0.1:${peer.port} D`]);
  });

  it('counts the data a rerun finds on disk (the check), all files this time', async () => {
    const out = join(root, 'out-all');
    const firstRun = sessionFromPeer(meta, out, pool, peer.port);
    await firstRun.run();
    const again = sessionFromPeer(meta, out, pool, peer.port);
    const source = newSource();
    watch(source, again, null);
    await again.run();
    const [row] = (await source.list()).torrents;
    expect(row).toMatchObject({
      percentDone: 1,
      sizeWhenDone: 6 * PIECE + 1000,
      downloadedEver: 0,
    });
    expect(row!.recheckProgress).toBe(1);
    const files = (await source.detail(DOWNLOAD_ID, 'files')).files!;
    expect(files.map((f) => [f.bytesCompleted, f.wanted])).toEqual([
      [4 * PIECE, true],
      [2 * PIECE + 1000, true],
    ]);
    expect([...(await source.detail(DOWNLOAD_ID, 'pieces')).pieces!.bitfield]).toEqual([0xfe]);
  });

  it('refuses what one download cannot do, each with a one-line reason', async () => {
    const source: TuiSource = newSource();
    const refusals = [
      source.stop([DOWNLOAD_ID]),
      source.start([DOWNLOAD_ID]),
      source.verify([DOWNLOAD_ID]),
      source.remove([DOWNLOAD_ID], false),
      source.add('magnet:?xt=urn:btih:0000000000000000000000000000000000000000'),
      source.setWanted(DOWNLOAD_ID, [0], false),
      source.setPriority(DOWNLOAD_ID, [0], 1),
      source.setLimits(DOWNLOAD_ID, { download: 1000 }),
    ];
    for (const refusal of refusals) {
      const error = await refusal.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ActionRefused);
      expect((error as Error).message).not.toContain('\n');
    }
    await expect(source.stop([DOWNLOAD_ID])).rejects.toThrow(/q stops, the same command resumes/);
  });
});
