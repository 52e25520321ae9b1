/**
 * The DHT is IPv4 only (bittorrent-dht has no BEP 32): IPv6 bootstrap nodes
 * are reported and left out rather than handed to the library, which would
 * split `::1:6881` at its first colon and bootstrap from nothing, silently.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import DHT from 'bittorrent-dht';
import { DhtDiscovery, ipv4Nodes } from '../../../src/core/discovery/dht-discovery.ts';
import type { DiscoveryContext } from '../../../src/core/discovery/discovery.ts';

describe('DHT bootstrap nodes and IPv6', () => {
  it('keeps IPv4 and named nodes, reports IPv6 ones as [v6]:port', () => {
    const skipped: string[] = [];
    const kept = ipv4Nodes(
      ['127.0.0.1:6881', '::1:6882', '[2001:db8::1]:6883', 'router.example:6881'],
      (node) => skipped.push(node),
    );
    expect(kept).toEqual(['127.0.0.1:6881', 'router.example:6881']);
    expect(skipped).toEqual(['[::1]:6882', '[2001:db8::1]:6883']);
  });

  it('bootstraps from the IPv4 node and warns once about the IPv6 one', async () => {
    const entry = new DHT({ bootstrap: false });
    entry.on('error', () => {});
    await new Promise<void>((resolve) => entry.listen(0, '127.0.0.1', () => resolve()));
    const warnings: string[] = [];
    const context: DiscoveryContext = {
      infoHash: randomBytes(20),
      peerId: randomBytes(20),
      port: 0,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
      addPeers: () => {},
      warn: (message) => warnings.push(message),
    };
    const dht = new DhtDiscovery({
      bootstrap: ['::1:6881', `127.0.0.1:${entry.address().port}`],
      host: '127.0.0.1',
      cacheFile: null,
    });
    try {
      const joined = new Promise<void>((resolve) => entry.once('node', () => resolve()));
      dht.start(context);
      // The IPv4 entry node hears from us: the list given to the library was usable.
      await joined;
      expect(warnings).toEqual([
        'DHT: skipping bootstrap node [::1]:6881: the DHT runs over IPv4 only (no BEP 32 in bittorrent-dht)',
      ]);
    } finally {
      await dht.stop();
      await new Promise<void>((resolve) => entry.destroy(() => resolve()));
    }
  });
});
