// A real private DHT on 127.0.0.1: several bittorrent-dht nodes linked with addNode, no public routers.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import DHT from 'bittorrent-dht';
import {
  DhtDiscovery,
  dhtCachePath,
  readDhtCache,
} from '../../../src/core/discovery/dht-discovery.ts';
import type { DiscoveryContext } from '../../../src/core/discovery/discovery.ts';
import type { PeerAddress } from '../../../src/core/net/peer-address.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(): Promise<DHT> {
  const dht = new DHT({ bootstrap: false });
  dht.on('error', () => {});
  await new Promise<void>((resolve) => dht.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(() => new Promise<void>((resolve) => dht.destroy(() => resolve())));
  return dht;
}

async function privateDht(count: number): Promise<DHT[]> {
  const nodes: DHT[] = [];
  for (let i = 0; i < count; i++) nodes.push(await node());
  // Full mesh: every node pings every other, so each routing table knows the whole DHT.
  await Promise.all(
    nodes.map(
      (a) =>
        new Promise<void>((resolve) => {
          let pending = count - 1;
          a.on('node', () => {
            if (--pending === 0) resolve();
          });
          for (const b of nodes)
            if (b !== a) a.addNode({ host: '127.0.0.1', port: b.address().port });
        }),
    ),
  );
  return nodes;
}

function context(infoHash: Uint8Array, port = 0) {
  const found: PeerAddress[] = [];
  const warnings: string[] = [];
  let notify: (() => void) | null = null;
  const ctx: DiscoveryContext = {
    infoHash,
    peerId: randomBytes(20),
    port,
    stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
    addPeers: (peers) => {
      found.push(...peers);
      notify?.();
    },
    warn: (message) => warnings.push(message),
  };
  const until = (predicate: () => boolean) =>
    new Promise<void>((resolve) => {
      if (predicate()) return resolve();
      notify = () => {
        if (predicate()) resolve();
      };
    });
  return { ctx, found, warnings, until };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shoal-dht-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('DhtDiscovery on a private DHT', () => {
  it('finds a peer another node announced, announces us, and saves its routing table', async () => {
    const nodes = await privateDht(5);
    const infoHash = randomBytes(20);
    await new Promise<void>((resolve, reject) =>
      nodes[0]!.announce(infoHash, 40_123, (error) => (error ? reject(error) : resolve())),
    );

    const dir = await tempDir();
    const cacheFile = path.join(dir, 'shoal', 'dht.json');
    const discovery = new DhtDiscovery({
      bootstrap: nodes.slice(1, 3).map((n) => `127.0.0.1:${n.address().port}`),
      host: '127.0.0.1',
      cacheFile,
    });
    const { ctx, found, warnings, until } = context(infoHash, 40_999);
    cleanups.push(() => discovery.stop());
    discovery.start(ctx);
    await until(() => found.some((p) => p.port === 40_123));
    expect(found).toContainEqual({ host: '127.0.0.1', port: 40_123 });
    expect(found.every((p) => p.port > 0 && p.host !== '0.0.0.0')).toBe(true);

    // Our own announce reaches the DHT: another node's lookup finds port 40999.
    const seen = await new Promise<number[]>((resolve) => {
      const ports: number[] = [];
      const check = () => {
        nodes[4]!.lookup(infoHash, () => {
          if (ports.includes(40_999)) resolve(ports);
          else setTimeout(check, 200);
        });
      };
      nodes[4]!.on('peer', (peer, hash) => {
        if (Buffer.from(hash).equals(infoHash)) ports.push(peer.port);
      });
      check();
    });
    expect(seen).toContain(40_999);

    await discovery.stop();
    const cache = await readDhtCache(cacheFile);
    expect(cache.nodeId).toMatch(/^[0-9a-f]{40}$/);
    expect(cache.nodes.length).toBeGreaterThan(0);
    expect(warnings).toEqual([]);

    // Second run: no bootstrap at all, only the cache, still finds the peer.
    const again = new DhtDiscovery({ bootstrap: [], host: '127.0.0.1', cacheFile });
    const second = context(infoHash);
    cleanups.push(() => again.stop());
    again.start(second.ctx);
    await second.until(() => second.found.some((p) => p.port === 40_123));
    again.requestPeers();
    await again.stop();
    expect(second.warnings).toEqual([]);
  });

  it("looks up and announces a hybrid's other swarm (addSwarm), its peers reported with that hash", async () => {
    const nodes = await privateDht(5);
    const [first, other] = [randomBytes(20), randomBytes(20)];
    await new Promise<void>((resolve, reject) =>
      nodes[0]!.announce(other, 40_124, (error) => (error ? reject(error) : resolve())),
    );
    const discovery = new DhtDiscovery({
      bootstrap: nodes.slice(1, 3).map((n) => `127.0.0.1:${n.address().port}`),
      host: '127.0.0.1',
      cacheFile: null,
    });
    const swarmsOf = new Map<number, string>();
    const { ctx, found, until } = context(first, 40_998);
    const report = ctx.addPeers;
    ctx.addPeers = (peers, source, infoHash) => {
      for (const peer of peers)
        swarmsOf.set(peer.port, Buffer.from(infoHash ?? first).toString('hex'));
      report(peers, source, infoHash);
    };
    cleanups.push(() => discovery.stop());
    discovery.start(ctx);
    discovery.addSwarm(other);
    await until(() => found.some((p) => p.port === 40_124));
    expect(swarmsOf.get(40_124)).toBe(other.toString('hex'));

    // Announced in the other swarm too: another node's lookup of it finds port 40998.
    const seen = await new Promise<number[]>((resolve) => {
      const ports: number[] = [];
      const check = () => {
        nodes[4]!.lookup(other, () => {
          if (ports.includes(40_998)) resolve(ports);
          else setTimeout(check, 200);
        });
      };
      nodes[4]!.on('peer', (peer, hash) => {
        if (Buffer.from(hash).equals(other)) ports.push(peer.port);
      });
      check();
    });
    expect(seen).toContain(40_998);
  });

  it('ignores a corrupt or missing cache and stops within bounded time', async () => {
    const dir = await tempDir();
    const cacheFile = path.join(dir, 'dht.json');
    expect(await readDhtCache(cacheFile)).toEqual({ nodeId: null, nodes: [] });
    await writeFile(
      cacheFile,
      '{"nodeId": 5, "nodes": [{"host":"0.0.0.0","port":1},{"host":"1.2.3.4","port":0},{"host":"::1","port":5},"x",{"host":"10.1.2.3","port":6881}]',
    );
    expect(await readDhtCache(cacheFile)).toEqual({ nodeId: null, nodes: [] });
    await writeFile(
      cacheFile,
      '{"nodeId": 5, "nodes": [{"host":"0.0.0.0","port":1},{"host":"1.2.3.4","port":0},{"host":"::1","port":5},"x",{"host":"10.1.2.3","port":6881}]}',
    );
    expect(await readDhtCache(cacheFile)).toEqual({
      nodeId: null,
      nodes: [{ host: '10.1.2.3', port: 6881 }],
    });
    await writeFile(cacheFile, 'garbage');
    const discovery = new DhtDiscovery({ bootstrap: [], host: '127.0.0.1', cacheFile });
    const { ctx, warnings } = context(randomBytes(20));
    discovery.start(ctx);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await discovery.stop();
    expect(warnings).toEqual([]);
    // Nothing learned, so the corrupt file is left as it was rather than replaced by an empty table.
    expect(await readFile(cacheFile, 'utf8')).toBe('garbage');
  });

  it('follows XDG_CACHE_HOME', () => {
    expect(dhtCachePath({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/shoal/dht.json');
    expect(dhtCachePath({ XDG_CACHE_HOME: 'relative' })).toBe(
      path.join(os.homedir(), '.cache', 'shoal', 'dht.json'),
    );
    expect(dhtCachePath({})).toBe(path.join(os.homedir(), '.cache', 'shoal', 'dht.json'));
  });
});
