/**
 * A hybrid's magnet link (BEP 52) joins both of its swarms: with both xt
 * (`urn:btih:` and `urn:btmh:`) the tracker hears an announce for each hash
 * while the metadata is still being looked for; with `urn:btmh:` alone only
 * the v2 swarm is known at first, and once the metadata shows a hybrid the
 * v1 swarm is announced too. An in-test HTTP tracker records the announces
 * (the v2 hash cut to 20 bytes, as on the wire) and answers the v2 hash with
 * a shoal seeding the hybrid.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeBencode } from '../../src/core/bencode/index.ts';
import { spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';
import { createHybrid } from '../helpers/hybrid.ts';
import { startShoalSeeder, until, type ShoalSeeder } from '../helpers/swarm.ts';
import { parseRawQuery } from '../core/tracker/fake-trackers.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });
cleanupTempDirs();

interface Announce {
  infoHash: string;
  event: string;
}

let work: string;
let torrent: string;
let btih: string;
/** The v2 hash as the magnet has it (multihash, 1220 + 64 hex digits). */
let btmh: string;
/** The v2 hash cut to 20 bytes, hex: what trackers see. */
let v2: string;
let seedParent: string;
/** Started by the test that needs it: until then the tracker knows no peer. */
let seeder: ShoalSeeder | null = null;
const announces: Announce[] = [];
let server: http.Server;
let trackerUrl: string;

beforeAll(async () => {
  work = tempDir('shoal-hybrid-magnet-');
  seedParent = path.join(work, 'seed');
  const payload = path.join(seedParent, 'payload');
  await makeTree(payload, [{ path: 'h.bin', size: 300 * 1024 + 9 }]);
  torrent = path.join(work, 'payload.torrent');
  ({ btih, btmh, v2Wire: v2 } = await createHybrid(payload, torrent, work));
  server = http.createServer((req, res) => {
    const query = parseRawQuery(req.url ?? '/');
    const infoHash = query.get('info_hash')!.toString('hex');
    announces.push({ infoHash, event: query.get('event')?.toString('latin1') ?? '' });
    const peer = Buffer.from([127, 0, 0, 1, 0, 0]);
    if (seeder) peer.writeUInt16BE(seeder.port, 4);
    // Only the v2 swarm knows the seeder: the v1 swarm is joined for its own sake.
    const known = seeder && infoHash === v2;
    res.end(encodeBencode({ interval: 1800, peers: known ? peer : Buffer.alloc(0) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  trackerUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/announce`;
});

afterAll(async () => {
  seeder?.proc.kill();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

const startedIn = (hash: string) =>
  announces.some((a) => a.infoHash === hash && a.event === 'started');

describe('a hybrid magnet in both swarms', () => {
  it('with both xt, announces both hashes while the metadata is looked for', async () => {
    announces.length = 0;
    // No seeder yet: the metadata never comes, so both announces are the metadata phase's.
    const magnet = `magnet:?xt=urn:btih:${btih}&xt=urn:btmh:${btmh}&dn=payload&tr=${encodeURIComponent(trackerUrl)}`;
    const download = spawnShoal(
      ['download', magnet, '-o', path.join(work, 'both'), '--no-dht', '--timeout', '60s'],
      { cwd: work },
    );
    await until(
      () => startedIn(btih) && startedIn(v2),
      30_000,
      () => `${JSON.stringify(announces)}\n${download.describe()}\n${seeder?.proc.describe()}`,
    );
    download.kill();
  });

  it('with btmh alone, joins the v1 swarm once the metadata shows a hybrid', async () => {
    announces.length = 0;
    seeder = await startShoalSeeder(torrent, seedParent, ['--no-dht'], { cwd: work });
    const magnet = `magnet:?xt=urn:btmh:${btmh}&dn=payload&tr=${encodeURIComponent(trackerUrl)}`;
    const download = spawnShoal(
      [
        'download',
        magnet,
        '-o',
        path.join(work, 'v2-only'),
        '--no-dht',
        '--seed-time',
        '5m',
        '--timeout',
        '60s',
      ],
      { cwd: work },
    );
    await until(
      () => startedIn(btih),
      60_000,
      () => `${JSON.stringify(announces)}\n${download.describe()}\n${seeder?.proc.describe()}`,
    );
    download.kill();
    // The v2 swarm came first: the metadata (and the v1 hash) came from the seeder found there.
    expect(announces.findIndex((a) => a.infoHash === v2)).toBe(0);
  });
});
