/**
 * A magnet download keeps the connections it made to fetch the metadata:
 * the seeder sees one connection from us for both the metadata and the
 * data, and the peer sources started for the metadata keep running into the
 * download (started once, stopped once). A peer the fetch was still dialling
 * (or still shaking hands with) when the metadata arrived is not dialled a
 * second time by the download.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../../src/core/client/client.ts';
import { staticPeers, type PeerDiscovery } from '../../../src/core/discovery/discovery.ts';
import { DiscoveryHub } from '../../../src/core/discovery/hub.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { TorrentSession } from '../../../src/core/session/torrent-session.ts';
import { parseMagnet } from '../../../src/core/metainfo/index.ts';
import { resolveMagnet, type ResolvedMagnet } from '../../../src/core/source/resolve-magnet.ts';
import { listenTcp, tcpTransport } from '../../../src/core/transport/tcp.ts';
import type { Transport } from '../../../src/core/transport/transport.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../../helpers/files.ts';
import { metainfoOf } from '../../helpers/metainfo.ts';
import { until } from '../../helpers/swarm.ts';

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
const afterEachCleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of afterEachCleanups.splice(0)) cleanup();
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

/** A seeding session on its own client, counting the connections it accepts. */
async function startSeeder() {
  const counted = { accepted: 0 };
  const seederClient = new Client({
    port: 0,
    hashPool: pool,
    listen: (port, onStream, onError) =>
      listenTcp(
        port,
        (incoming) => {
          counted.accepted++;
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
  const stop = async () => {
    await seeder.interrupt();
    await seeding;
    await seederClient.close();
  };
  return { port: seederClient.port, counted, stop };
}

const magnetOf = (m: Metainfo) =>
  parseMagnet(`magnet:?xt=urn:btih:${Buffer.from(m.infoHash!).toString('hex')}`);

/** The download a resolved magnet goes on to, over the hub and connections its fetch used. */
function leechOf(resolved: ResolvedMagnet, hub: DiscoveryHub, out: string): TorrentSession {
  return new TorrentSession({
    meta: resolved.meta,
    outDir: out,
    hashPool: pool,
    port: null,
    peerId: resolved.peerId,
    stallTimeoutMs: 20_000,
    discoveries: hub,
    handedOff: resolved.connections,
  });
}

describe('a magnet download', () => {
  it('downloads over the connections that fetched the metadata, with its sources started once', async () => {
    const seeder = await startSeeder();
    const source = countingSource(staticPeers([{ host: '127.0.0.1', port: seeder.port }]));
    const hub = new DiscoveryHub([source]);
    const resolved = await resolveMagnet({
      magnet: magnetOf(meta),
      discoveries: hub,
      handOff: true,
      version: '0.0.0-test',
      timeoutMs: 20_000,
    });
    expect(resolved.connections).toHaveLength(1);
    expect(seeder.counted.accepted).toBe(1);

    const out = tempDir('shoal-handoff-out-');
    const leech = leechOf(resolved, hub, out);
    const summary = await leech.run();
    expect(summary.status).toBe('complete');
    const [want, got] = await Promise.all([
      readFile(path.join(dataDir, 'data.bin')),
      readFile(path.join(out, 'data.bin')),
    ]);
    expect(got.equals(want)).toBe(true);
    // One connection served both phases; the source was started once and stopped once.
    expect(seeder.counted.accepted).toBe(1);
    expect(source.starts).toBe(1);
    expect(source.stops).toBe(1);
    await seeder.stop();
  }, 60_000);

  // The slow peer: accepts connections and never answers. 'dialling' holds the fetch's dial of
  // it until the download is over; 'shaking hands' lets the dial land during the fetch.
  for (const phase of ['dialling', 'shaking hands'] as const) {
    it(`does not dial a peer the metadata fetch was still ${phase} when the metadata arrived`, async () => {
      const seeder = await startSeeder();
      const slow = await slowPeer();
      let openGate!: () => void;
      const gate = new Promise<void>((resolve) => (openGate = resolve));
      const heldDials: Promise<unknown>[] = [];
      const transport: Transport = {
        name: 'gated',
        dial: (address, options) => {
          if (phase !== 'dialling' || address.port !== slow.port)
            return tcpTransport.dial(address, options);
          const dialled = gate.then(() => tcpTransport.dial(address, options));
          heldDials.push(dialled.catch(() => {}));
          return dialled;
        },
      };
      const peers = [
        { host: '127.0.0.1', port: slow.port },
        { host: '127.0.0.1', port: seeder.port },
      ];
      const hub = new DiscoveryHub([staticPeers(peers)]);
      const resolved = await resolveMagnet({
        magnet: magnetOf(meta),
        discoveries: hub,
        handOff: true,
        transport,
        version: '0.0.0-test',
        timeoutMs: 20_000,
      });
      const leech = leechOf(resolved, hub, tempDir('shoal-handoff-out-'));
      leech.addPeers(resolved.peers, 'magnet');
      // A source names the slow peer again once the download runs (as a tracker's next announce
      // would); the download then dials what it knows and is not connected to.
      leech.once('peer-connected', () => setImmediate(() => leech.addPeers(peers, 'tracker')));
      const summary = await leech.run();
      expect(summary.status).toBe('complete');
      openGate();
      await Promise.all(heldDials);
      // Every connection made so far has reached the slow peer once it has accepted a later one.
      const accepted = await slow.acceptedBefore();
      expect(accepted, 'connections the slow peer accepted from us').toBe(1);
      await seeder.stop();
    }, 60_000);
  }
});

/**
 * A peer on 127.0.0.1 that accepts connections and never answers a handshake.
 * `acceptedBefore()` counts the connections it accepted, after making sure
 * every one already made has been accepted: the kernel queues them in order,
 * so one more connection, seen accepted, comes after them all.
 */
async function slowPeer(): Promise<{ port: number; acceptedBefore: () => Promise<number> }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  afterEachCleanups.push(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    acceptedBefore: async () => {
      const probe = net.connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => probe.once('connect', resolve));
      const probePort = probe.localPort;
      const isProbe = (socket: net.Socket) => socket.remotePort === probePort;
      await until(
        () => sockets.some(isProbe),
        10_000,
        () => 'the probe was not accepted',
      );
      const accepted = sockets.filter((socket) => !isProbe(socket)).length;
      probe.destroy();
      return accepted;
    },
  };
}
