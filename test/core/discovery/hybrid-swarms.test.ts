/**
 * A hybrid torrent (BEP 52) is in two swarms, as libtorrent treats it: its
 * tracker hears an announce for each hash (its v1 info-hash and its v2 one
 * cut to 20 bytes), each with its own `started` and, at the end, its own
 * `stopped`; and a peer the tracker gave for the v2 hash is dialled with the
 * v2 hash (it may know no other). A real TorrentSession downloading on
 * 127.0.0.1 against an in-test HTTP tracker that answers each hash with
 * its own peer list, and a listener that records the handshake it is sent.
 */
import http from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeBencode } from '../../../src/core/bencode/index.ts';
import { Client } from '../../../src/core/client/client.ts';
import { trackerDiscovery } from '../../../src/core/discovery/tracker-discovery.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../../src/core/session/torrent-session.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../../helpers/files.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';
import { until } from '../../helpers/swarm.ts';
import { parseRawQuery } from '../tracker/fake-trackers.ts';

vi.setConfig({ testTimeout: 30_000 });
cleanupTempDirs();

interface Announce {
  infoHash: string;
  event: string;
}

let pool: HashPool;
let meta: Metainfo;
let v1: string;
let v2: string;

beforeAll(async () => {
  pool = new HashPool({ threads: 1 });
  const dataDir = tempDir('shoal-hybrid-swarms-');
  await makeTree(dataDir, [{ path: 'h.bin', size: 100 * 1024 + 5 }]);
  meta = await metainfoOf(path.join(dataDir, 'h.bin'), {
    version: 'hybrid',
    pieceLength: 16 * 1024,
    pool,
  });
  v1 = Buffer.from(meta.infoHash!).toString('hex');
  v2 = Buffer.from(meta.infoHashV2!.subarray(0, 20)).toString('hex');
});
afterAll(async () => {
  await pool?.destroy();
});

/** An HTTP tracker recording every announce; `peersFor` answers each hash (compact IPv4). */
async function recordingTracker(
  peersFor: (infoHash: string) => Buffer,
): Promise<{ url: string; announces: Announce[]; server: http.Server }> {
  const announces: Announce[] = [];
  const server = http.createServer((req, res) => {
    const query = parseRawQuery(req.url ?? '/');
    const infoHash = query.get('info_hash')!.toString('hex');
    announces.push({ infoHash, event: query.get('event')?.toString('latin1') ?? '' });
    res.end(encodeBencode({ interval: 1800, peers: peersFor(infoHash) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/announce`, announces, server };
}

/** A TCP listener that resolves with the info-hash (hex) of the first handshake it receives. */
async function handshakeRecorder(): Promise<{
  server: Server;
  port: number;
  named: Promise<string>;
}> {
  let resolveNamed!: (hash: string) => void;
  const named = new Promise<string>((resolve) => (resolveNamed = resolve));
  const server = createServer((socket) => {
    let received = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 48) return;
      resolveNamed(received.subarray(28, 48).toString('hex'));
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, named };
}

function compact(port: number): Buffer {
  const entry = Buffer.from([127, 0, 0, 1, 0, 0]);
  entry.writeUInt16BE(port, 4);
  return entry;
}

describe('a hybrid in both swarms', () => {
  it('announces both hashes, dials a v2-swarm peer with the v2 hash, and stops each once', async () => {
    const v2Peer = await handshakeRecorder();
    const tracker = await recordingTracker((hash) =>
      hash === v2 ? compact(v2Peer.port) : Buffer.alloc(0),
    );
    const client = new Client({ port: 0, hashPool: pool });
    await client.start();
    const session = new TorrentSession({
      meta,
      outDir: tempDir('shoal-hybrid-swarms-out-'),
      hashPool: pool,
      client,
      stallTimeoutMs: 60_000,
      discoveries: [trackerDiscovery([[tracker.url]])],
    });
    const ended = session.run().catch((error: unknown) => error);
    try {
      // The peer only the v2 swarm knows is dialled, and with the v2 hash.
      expect(await v2Peer.named).toBe(v2);
      // Each swarm's first announce: the v1 one may reach the tracker after the v2 answer.
      const startedIn = () => tracker.announces.filter((a) => a.event === 'started').length;
      await until(
        () => startedIn() >= 2,
        20_000,
        () => JSON.stringify(tracker.announces),
      );
      const started = tracker.announces.filter((a) => a.event === 'started').map((a) => a.infoHash);
      expect(started.sort()).toEqual([v1, v2].sort());
    } finally {
      await session.interrupt();
      await ended;
      await client.close();
      v2Peer.server.close();
      tracker.server.closeAllConnections();
      tracker.server.close();
    }
    const stopped = tracker.announces.filter((a) => a.event === 'stopped').map((a) => a.infoHash);
    expect(stopped.sort()).toEqual([v1, v2].sort());
  });
});
