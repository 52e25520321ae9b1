/**
 * LSD for a hybrid (BEP 52) torrent: once its other swarm is added, both of
 * its hashes are announced on the segment, and a peer heard for the other
 * hash is reported as that swarm's (so it is dialled with that hash). The
 * LSD service is a stand-in recording announces: the multicast itself is
 * tested between two network namespaces in lsd.test.ts.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { DiscoveryContext } from '../../../src/core/discovery/discovery.ts';
import { LsdDiscovery, type LsdService } from '../../../src/core/discovery/lsd.ts';

class RecordingService extends EventEmitter {
  readonly announced: string[] = [];
  announce(infoHash: string): boolean {
    this.announced.push(infoHash);
    return true;
  }
  forget(): void {}
}

describe('LSD in both swarms of a hybrid', () => {
  it('announces both hashes and reports the other swarm’s peers with its hash', async () => {
    const first = Buffer.alloc(20, 1);
    const other = Buffer.alloc(20, 2);
    const service = new RecordingService();
    const reported: { port: number; swarm: string | undefined }[] = [];
    const context: DiscoveryContext = {
      infoHash: first,
      peerId: Buffer.alloc(20, 3),
      port: 6881,
      stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
      addPeers: (peers, _source, swarm) => {
        for (const peer of peers)
          reported.push({ port: peer.port, swarm: swarm && Buffer.from(swarm).toString('hex') });
      },
      warn: () => {},
    };
    const lsd = new LsdDiscovery({ service: service as unknown as LsdService });
    lsd.start(context);
    lsd.addSwarm(other);
    // Adding a swarm announces it at once (both, by then: the gap per hash holds repeats back).
    expect(new Set(service.announced)).toEqual(
      new Set([first.toString('hex'), other.toString('hex')]),
    );
    service.emit('peer', other.toString('hex'), { host: '10.0.0.7', port: 7001 });
    service.emit('peer', first.toString('hex'), { host: '10.0.0.8', port: 7002 });
    service.emit('peer', Buffer.alloc(20, 9).toString('hex'), { host: '10.0.0.9', port: 7003 });
    expect(reported).toEqual([
      { port: 7001, swarm: other.toString('hex') },
      { port: 7002, swarm: undefined },
    ]);
    await lsd.stop();
  });
});
