/**
 * The hub may hold back the sources whose start is costly (the DHT, LSD)
 * while a cheaper one can find peers, so that their start-up does not run on
 * the way to the first piece; with nothing else to ask they start at once.
 */
import { describe, expect, it } from 'vitest';
import { staticPeers, type PeerDiscovery } from '../../../src/core/discovery/discovery.ts';
import { DiscoveryHub } from '../../../src/core/discovery/hub.ts';
import { trackerDiscovery } from '../../../src/core/discovery/tracker-discovery.ts';
import { freePort } from '../../helpers/ports.ts';
import { until } from '../../helpers/swarm.ts';
import { startHttpTracker } from '../tracker/fake-trackers.ts';

/** A deferrable source that records what the hub did with it. */
function slowSource(): PeerDiscovery & { calls: string[] } {
  const calls: string[] = [];
  return {
    name: 'slow',
    deferrable: true,
    calls,
    start: () => void calls.push('start'),
    requestPeers: () => void calls.push('requestPeers'),
    stop: async () => void calls.push('stop'),
  };
}

const infoHash = new Uint8Array(20).fill(1);
const peerId = new Uint8Array(20).fill(2);
const peer = { host: '127.0.0.1', port: 6881 };

describe('DiscoveryHub, deferring slow sources', () => {
  it('holds a deferrable source back while given peers can be dialled, until startDeferred', async () => {
    const slow = slowSource();
    const found: string[] = [];
    const hub = new DiscoveryHub([staticPeers([peer]), slow]);
    hub.attach({
      stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
      addPeers: (_peers, source) => void found.push(source),
      warn: () => {},
    });
    hub.start(infoHash, peerId, 0, true);
    expect(found).toEqual(['command line']);
    hub.requestPeers();
    expect(slow.calls).toEqual([]);
    hub.startDeferred();
    hub.startDeferred();
    expect(slow.calls).toEqual(['start']);
    await hub.stop();
    expect(slow.calls).toEqual(['start', 'stop']);
  });

  it('starts a deferrable source at once when no other source can find peers', async () => {
    const slow = slowSource();
    const hub = new DiscoveryHub([staticPeers([]), trackerDiscovery([]), slow]);
    hub.start(infoHash, peerId, 0, true);
    expect(slow.calls).toEqual(['start']);
    await hub.stop();
  });

  it('starts a deferrable source as soon as the only tracker has failed, not at a piece or tick', async () => {
    const slow = slowSource();
    const warnings: string[] = [];
    const dead = `http://127.0.0.1:${await freePort()}/announce`; // nothing listens there
    const hub = new DiscoveryHub([trackerDiscovery([[dead]]), slow]);
    hub.attach({
      stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
      addPeers: () => {},
      warn: (message) => void warnings.push(message),
    });
    hub.start(infoHash, peerId, 0, true);
    expect(slow.calls).toEqual([]);
    await until(
      () => slow.calls.includes('start'),
      20_000,
      () => warnings.join('\n'),
    );
    expect(warnings.some((w) => w.includes(dead))).toBe(true);
    await hub.stop();
  });

  it('starts a deferrable source as soon as the trackers answered without peers', async () => {
    const tracker = await startHttpTracker();
    tracker.announceBody = { interval: 1800, peers: Buffer.alloc(0) };
    try {
      const slow = slowSource();
      const hub = new DiscoveryHub([trackerDiscovery([[`${tracker.base}/announce`]]), slow]);
      hub.start(infoHash, peerId, 0, true);
      expect(slow.calls).toEqual([]);
      await until(
        () => slow.calls.includes('start'),
        20_000,
        () => JSON.stringify(tracker.requests),
      );
      await hub.stop();
    } finally {
      await tracker.close();
    }
  });

  it('keeps a deferrable source back while the tracker answered with peers', async () => {
    const tracker = await startHttpTracker(); // answers with two peers
    try {
      const slow = slowSource();
      const found: string[] = [];
      const hub = new DiscoveryHub([trackerDiscovery([[`${tracker.base}/announce`]]), slow]);
      hub.attach({
        stats: () => ({ uploaded: 0, downloaded: 0, left: 1 }),
        addPeers: (_peers, source) => void found.push(source),
        warn: () => {},
      });
      hub.start(infoHash, peerId, 0, true);
      await until(
        () => found.length > 0,
        20_000,
        () => JSON.stringify(tracker.requests),
      );
      expect(slow.calls).toEqual([]);
      await hub.stop();
    } finally {
      await tracker.close();
    }
  });

  it('starts everything at once unless asked to defer (a magnet fetch needs the DHT now)', async () => {
    const slow = slowSource();
    const hub = new DiscoveryHub([staticPeers([peer]), slow]);
    hub.start(infoHash, peerId, 0);
    expect(slow.calls).toEqual(['start']);
    await hub.stop();
  });

  it('neither starts nor stops a deferred source when stopped first', async () => {
    const slow = slowSource();
    const hub = new DiscoveryHub([staticPeers([peer]), slow]);
    hub.start(infoHash, peerId, 0, true);
    await hub.stop();
    hub.startDeferred();
    expect(slow.calls).toEqual([]);
  });
});
