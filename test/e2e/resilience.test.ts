/**
 * What an unattended script relies on: a download killed with SIGKILL at
 * random moments, again and again, resumes every time without losing a piece
 * it had verified; and a seeder serving 200 leecher connections at once stays
 * up with bounded memory.
 */
import { statSync, existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, tempDir } from '../helpers/files.ts';
import { seededRandom, testSeed } from '../helpers/random.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';
import { WireDecoder } from '../../src/core/wire/decoder.ts';
import { encodeHandshake } from '../../src/core/wire/handshake.ts';
import { encodeMessage } from '../../src/core/wire/messages.ts';

trackProcesses();
cleanupTempDirs();

let work: string;
let dataParent: string;
let torrent: string;
let infoHash: string;

beforeAll(async () => {
  work = tempDir('shoal-resilience-');
  dataParent = path.join(work, 'src');
  await makeTree(path.join(dataParent, 'payload'), [
    { path: 'one.bin', size: 3_000_000 },
    { path: 'two.bin', size: 2_000_001 },
  ]);
  ({ torrent, infoHash } = (await createTorrent(
    path.join(dataParent, 'payload'),
    path.join(work, 'p.torrent'),
    ['--piece-length', '64KiB'],
  )) as { torrent: string; infoHash: string });
}, 60_000);

/** Pieces the resume state on disk claims (snapshot entries plus whole journal records). */
function claimedPieces(out: string): number {
  const base = path.join(out, '.shoal', infoHash);
  const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
  const snapshot = size(`${base}.resume`);
  const journal = size(`${base}.journal`);
  // Layout in src/core/resume/resume-store.ts: 32-byte MAC after the snapshot, 28-byte journal records.
  const header = 36;
  const snapshotEntries = snapshot >= header + 36 ? (snapshot - header - 4 - 32) / 12 : 0;
  const journalRecords = journal > header ? Math.floor((journal - header) / 28) : 0;
  return snapshotEntries + journalRecords;
}

describe('crash-safe resume', () => {
  it('survives kill -9 at random moments, losing no verified piece', async () => {
    const seeder = await startShoalSeeder(torrent, dataParent);
    const out = path.join(work, 'out-kill');
    const args = ['download', torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '60s'];
    let lastClaimed = 0;
    let kills = 0;
    const seed = testSeed('kill -9 moments');
    const random = seededRandom(seed);
    for (let round = 0; round < 3; round++) {
      // Slow enough to be caught mid-download; killed after a random (seeded) delay.
      const proc = spawnShoal([...args, '--download-limit', '512KiB']);
      await proc.waitFor(/: downloading/, 30_000, 'stderr');
      await new Promise((resolve) => setTimeout(resolve, 300 + random() * 1200));
      if (!proc.running) break; // finished on its own: nothing left to interrupt
      proc.kill('SIGKILL');
      await proc.wait(10_000);
      kills++;
      const claimed = claimedPieces(out);
      expect(claimed).toBeGreaterThanOrEqual(lastClaimed);
      lastClaimed = claimed;
    }
    expect(kills).toBeGreaterThan(0);
    expect(lastClaimed).toBeGreaterThan(0);
    const final = await runShoal(args, { timeoutMs: 90_000 });
    expect(final.code, `seed ${seed}\n${show(final)}`).toBe(0);
    // Every piece the resume state claimed was found again: nothing verified was lost.
    const found = /(\d+)\/\d+ pieces already on disk/.exec(final.stderr);
    expect(Number(found?.[1] ?? 0), final.stderr).toBeGreaterThanOrEqual(lastClaimed);
    expect(await diffTrees(path.join(dataParent, 'payload'), path.join(out, 'payload'))).toEqual(
      [],
    );
    // A complete download leaves no resume state behind.
    expect(existsSync(path.join(out, '.shoal'))).toBe(false);
    seeder.proc.kill('SIGTERM');
    // The bounds above add up to ~215 s on a machine slow enough to need them all.
  }, 240_000);
});

describe('load', () => {
  it('serves 200 concurrent leecher connections without errors and with bounded memory', async () => {
    const seeder = await startShoalSeeder(torrent, dataParent, ['--max-peers', '250']);
    const data = await readFile(path.join(dataParent, 'payload', 'one.bin'));
    const expected = createHash('sha1').update(data.subarray(0, 16384)).digest('hex');
    const results = await Promise.all(
      Array.from({ length: 200 }, () => fetchFirstBlock(seeder.port, Buffer.from(infoHash, 'hex'))),
    );
    const served = results.filter(
      (block) => block && createHash('sha1').update(block).digest('hex') === expected,
    );
    expect(served.length).toBe(200);
    const status = await readFile(`/proc/${seeder.proc.pid}/status`, 'utf8');
    const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    console.log(`shoal seed peak RSS with 200 leechers: ${(peakKiB / 1024).toFixed(1)} MiB`);
    expect(peakKiB).toBeLessThan(400 * 1024);
    expect(seeder.proc.running).toBe(true);
    seeder.proc.kill('SIGTERM');
  }, 150_000);
});

/** A minimal leecher: handshake, interested, wait for unchoke (the choker rotates), fetch block 0. */
function fetchFirstBlock(port: number, infoHash: Buffer): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const decoder = new WireDecoder({ maxBitfieldLength: 1 << 16 });
    let handshake = Buffer.alloc(0);
    let requested = false;
    const timer = setTimeout(() => finish(null), 90_000);
    const finish = (block: Buffer | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(block);
    };
    socket.on('error', () => finish(null));
    socket.on('connect', () => {
      const reserved = Buffer.alloc(8);
      reserved[7] = 0x04;
      socket.write(
        encodeHandshake({
          reserved,
          infoHash,
          peerId: Buffer.concat([Buffer.from('-LD0001-'), randomBytes(12)]),
        }),
      );
      socket.write(encodeMessage({ type: 'interested' }));
    });
    socket.on('data', (chunk: Buffer) => {
      if (handshake.length < 68) {
        handshake = Buffer.concat([handshake, chunk]);
        if (handshake.length < 68) return;
        chunk = handshake.subarray(68);
        if (chunk.length === 0) return;
      }
      decoder.push(chunk);
      try {
        for (let message = decoder.next(); message; message = decoder.next()) {
          if (message.type === 'unchoke' && !requested) {
            requested = true;
            socket.write(encodeMessage({ type: 'request', index: 0, begin: 0, length: 16384 }));
          }
          if (message.type === 'piece' && message.index === 0 && message.begin === 0)
            finish(Buffer.from(message.block));
        }
      } catch {
        finish(null);
      }
    });
  });
}
