/**
 * A magnet download keeps the connections it made to fetch the metadata:
 * the seeder sees one connection from us for both the metadata and the
 * data, and the peer sources started for the metadata keep running into the
 * download (started once, stopped once).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../../src/core/client/client.ts';
import { staticPeers, type PeerDiscovery } from '../../../src/core/discovery/discovery.ts';
import { DiscoveryHub } from '../../../src/core/discovery/hub.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../../src/core/session/torrent-session.ts';
import { resolveMagnet } from '../../../src/core/source/resolve-magnet.ts';
import { listenTcp } from '../../../src/core/transport/tcp.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../../helpers/files.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';

cleanupTempDirs();

let pool: HashPool;
let dataDir: string;
let meta: Metainfo;

beforeAll(async () => {
  pool = new HashPool({ threads: 1 });
  dataDir = tempDir('shoal-handoff-');
  await makeTree(dataDir, [{ path: 'data.bin', size: 5 * 1024 * 1024 + 99 }]);
  meta = await metainfoOf(path.join(dataDir, 'data.bin'), {
    version: 'v1',
    pieceLength: 64 * 1024,
    pool,
  });
});
afterAll(async () => {
  await pool?.destroy();
});

/** A source that counts how often it is started and stopped. */
function countingSource(inner: PeerDiscovery): PeerDiscovery & { starts: number; stops: number } {
  const counted = {
    name: inner.name,
    starts: 0,
    stops: 0,
    start(context: Parameters<PeerDiscovery['start']>[0]) {
      counted.starts++;
      inner.start(context);
    },
    async stop() {
      counted.stops++;
      await inner.stop();
    },
  };
  return counted;
}

describe('a magnet download', () => {
  it('downloads over the connections that fetched the metadata, with its sources started once', async () => {
    let accepted = 0;
    const seederClient = new Client({
      port: 0,
      hashPool: pool,
      listen: (port, onStream, onError) =>
        listenTcp(
          port,
          (incoming) => {
            accepted++;
            onStream(incoming);
          },
          onError,
        ),
    });
    await seederClient.start();
    const seeder = new TorrentSession({
      meta,
      outDir: dataDir,
      hashPool: pool,
      client: seederClient,
      readOnly: true,
      requireComplete: true,
      seedForever: true,
    });
    const seeding = seeder.run().catch((error: unknown) => error);
    await new Promise<void>((resolve) => seeder.on('phase', (p) => p === 'seeding' && resolve()));

    const source = countingSource(staticPeers([{ host: '127.0.0.1', port: seederClient.port }]));
    const hub = new DiscoveryHub([source]);
    const resolved = await resolveMagnet({
      magnet: {
        infoHash: meta.infoHash!,
        infoHashV2: null,
        name: null,
        trackers: [],
        webSeeds: [],
        peers: [],
        selectOnly: null,
      },
      discoveries: hub,
      handOff: true,
      version: '0.0.0-test',
      timeoutMs: 20_000,
    });
    expect(resolved.connections).toHaveLength(1);
    expect(accepted).toBe(1);

    const out = tempDir('shoal-handoff-out-');
    const leech = new TorrentSession({
      meta: resolved.meta,
      outDir: out,
      hashPool: pool,
      port: null,
      peerId: resolved.peerId,
      stallTimeoutMs: 20_000,
      discoveries: hub,
      handedOff: resolved.connections,
    });
    const summary = await leech.run();
    expect(summary.status).toBe('complete');
    const [want, got] = await Promise.all([
      readFile(path.join(dataDir, 'data.bin')),
      readFile(path.join(out, 'data.bin')),
    ]);
    expect(got.equals(want)).toBe(true);
    // One connection served both phases; the source was started once and stopped once.
    expect(accepted).toBe(1);
    expect(source.starts).toBe(1);
    expect(source.stops).toBe(1);
    await seeder.interrupt();
    await seeding;
    await seederClient.close();
  }, 60_000);
});
