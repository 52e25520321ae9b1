/**
 * Smart ban: a peer that serves honestly but slips junk blocks in between its
 * answers spoils pieces that an honest peer helped fill. Only the junk peer
 * may be blamed (its blocks differ from the ones that verify later); the
 * honest seeder, a real python3-libtorrent, must keep serving us to the end.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { staticPeers } from '../../src/core/discovery/discovery.ts';
import { TorrentSession } from '../../src/core/session/torrent-session.ts';
import { BLOCK_SIZE } from '../../src/core/swarm/piece-picker.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { requirePeers, startLibtorrent } from '../helpers/peers.ts';
import { FakePeer, seeder } from './fake-peer.ts';

trackProcesses();
requirePeers('libtorrent');

const PIECE = 64 * 1024;
const SIZE = 40 * 1024 * 1024;
let root: string;
let torrentPath: string;
let meta: Metainfo;
let data: Buffer;
let pool: HashPool;
const fakes: FakePeer[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shoal-smart-ban-'));
  data = randomBytes(SIZE);
  writeFileSync(join(root, 'payload.bin'), data);
  pool = new HashPool({ threads: 2 });
  const created = await createTorrent({
    path: join(root, 'payload.bin'),
    version: 'v1',
    pieceLength: PIECE,
    pool,
    creationDate: null,
  });
  torrentPath = join(root, 'payload.torrent');
  writeFileSync(torrentPath, created.torrentBytes);
  meta = parseTorrent(created.torrentBytes);
});

afterAll(async () => {
  await pool.destroy();
  rmSync(root, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.stop()));
});

describe('smart ban', () => {
  it('a peer slipping junk blocks between honest answers is banned alone; the honest seeder finishes the download', async () => {
    const honestly = seeder(data, PIECE);
    // Before each honest answer, junk for the next block: when that block is also
    // requested from this peer (pipelined) the junk answers it, and pieces that the
    // honest seeder helped fill fail their hash check.
    const junky = await FakePeer.start(meta.infoHash!, {
      onConnect: honestly.onConnect,
      onMessage(peer, message) {
        if (message.type === 'request') {
          const next = message.begin + BLOCK_SIZE;
          const [index, begin] = next < PIECE ? [message.index, next] : [message.index + 1, 0];
          if (index < meta.pieceCount) peer.sendBlock(index, begin, Buffer.alloc(BLOCK_SIZE, 0x5a));
        }
        honestly.onMessage!(peer, message);
      },
    });
    fakes.push(junky);
    const seed = await startLibtorrent({
      mode: 'seed',
      torrent: torrentPath,
      save: root,
      timeoutS: 150,
    });
    const out = mkdtempSync(join(root, 'out-'));
    const session = new TorrentSession({
      meta,
      outDir: out,
      hashPool: pool,
      port: 0,
      stallTimeoutMs: 30_000,
      discoveries: [
        staticPeers([
          { host: '127.0.0.1', port: junky.port },
          { host: '127.0.0.1', port: seed.port },
        ]),
      ],
    });
    const failed: number[] = [];
    const warnings: string[] = [];
    session.on('piece-failed', (index) => failed.push(index));
    session.on('warning', (message) => warnings.push(message));
    await session.run();
    expect(readFileSync(join(out, 'payload.bin')).equals(data)).toBe(true);
    const bans = warnings.filter((w) => w.includes('banned'));
    console.log(`${failed.length} pieces failed; bans: ${JSON.stringify(bans)}`);
    expect(failed.length).toBeGreaterThan(0);
    expect(bans.some((w) => w.includes(`:${junky.port}`))).toBe(true);
    expect(bans.some((w) => w.includes(`:${seed.port}`))).toBe(false);
  }, 150_000);
});
