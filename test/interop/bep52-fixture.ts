/**
 * What the BEP 52 interop tests share: a v2-only torrent made by
 * python3-libtorrent (bep52_libtorrent.py), its magnet link, a libtorrent
 * seeder, a magnet download from it with --save-torrent, and the .torrent
 * with its `piece layers` stripped.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { decodeBencode } from '../../src/core/bencode/index.ts';
import { runShoal, show, spawnTracked, type Proc } from '../helpers/cli.ts';
import { makeTree } from '../helpers/files.ts';
import { SYSTEM_PYTHON } from '../helpers/peers.ts';
import { peerArg } from '../helpers/swarm.ts';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bep52_libtorrent.py');

export function python(name: string, args: string[], timeoutS = 90): Proc {
  return spawnTracked(name, SYSTEM_PYTHON, [SCRIPT, ...args, '--timeout', String(timeoutS)], {
    timeoutMs: (timeoutS + 15) * 1000,
  });
}

export interface V2Payload {
  /** The folder holding `payload/` (what a seeder saves to). */
  seedParent: string;
  payload: string;
  torrent: string;
  magnet: string;
}

/**
 * `work/seed/payload` (big.bin has more than 512 pieces of 16 KiB, so its
 * layer takes two requests; the last file ends inside a piece) and its
 * v2-only .torrent made by libtorrent.
 */
export async function makeV2Payload(work: string): Promise<V2Payload> {
  const seedParent = path.join(work, 'seed');
  const payload = path.join(seedParent, 'payload');
  await makeTree(payload, [
    { path: 'big.bin', size: 600 * 16384 + 5000 },
    { path: 'c.txt', size: 3 },
    { path: 'sub/b.bin', size: 100_000 },
  ]);
  const torrent = path.join(work, 'payload.torrent');
  const made = python('libtorrent make', [
    'make',
    '--data',
    payload,
    '--out',
    torrent,
    '--piece-length',
    '16384',
  ]);
  const result = await made.exited;
  expect(result.code, made.describe()).toBe(0);
  const v2 = /INFOHASH_V2 ([0-9a-f]{64})/.exec(result.stdout)![1];
  return { seedParent, payload, torrent, magnet: `magnet:?xt=urn:btmh:1220${v2}&dn=payload` };
}

/** A libtorrent seeder of `torrent` with its data in `save`, once it has checked the data. */
export async function libtorrentSeeder(
  torrent: string,
  save: string,
): Promise<{ proc: Proc; port: number }> {
  // Port 0 and the port libtorrent names: a port found free first could be taken before it binds.
  const proc = python('libtorrent seed', [
    'seed',
    '--torrent',
    torrent,
    '--save',
    save,
    '--port',
    '0',
  ]);
  const [, port] = await proc.waitFor(/LISTENING (\d+)/, 60_000, 'stdout');
  await proc.waitFor(/SEEDING/, 60_000, 'stdout');
  return { proc, port: Number(port) };
}

/**
 * `shoal download MAGNET --save-torrent` from a libtorrent seeder of
 * `torrent` (data in `seedParent`), into `work`/saved; the seeder is stopped
 * once the download exits 0. Returns the download folder and the saved .torrent.
 */
export async function downloadSavingTorrent(
  work: string,
  magnet: string,
  torrent: string,
  seedParent: string,
): Promise<{ out: string; saved: string }> {
  const seeder = await libtorrentSeeder(torrent, seedParent);
  const out = path.join(work, 'saved');
  const saved = path.join(work, 'saved.torrent');
  const args = ['download', magnet, '-o', out, ...peerArg(seeder.port), '--save-torrent', saved];
  const result = await runShoal([...args, '--timeout', '30s'], { cwd: work, timeoutMs: 90_000 });
  expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
  seeder.proc.kill();
  return { out, saved };
}

/** The .torrent without its top-level `piece layers` (info dictionary untouched, byte for byte). */
export async function withoutPieceLayers(torrentFile: string): Promise<Uint8Array> {
  const torrent = await readFile(torrentFile);
  const [start, end] = decodeBencode(torrent).topLevelRanges.get('piece layers')!;
  const key = Buffer.from('12:piece layers');
  expect(Buffer.from(torrent.subarray(start - key.length, start)).equals(key)).toBe(true);
  return Buffer.concat([torrent.subarray(0, start - key.length), torrent.subarray(end)]);
}

/** The bytes of a top-level entry's value, or null. */
export function topLevel(torrent: Uint8Array, key: string): Buffer | null {
  const range = decodeBencode(torrent).topLevelRanges.get(key);
  return range ? Buffer.from(torrent.subarray(...range)) : null;
}
