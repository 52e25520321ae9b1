/**
 * The daemon's queue decisions and a run's limits, as pure functions: which
 * torrents start while download-queue-size / seed-queue-size have room, and
 * how a session limit is shared among running torrents.
 */
import { describe, expect, it } from 'vitest';
import { moveInQueue, queueDecisions, type QueueEntry } from '../../../src/core/daemon/queue.ts';
import { runLimits } from '../../../src/core/daemon/run-limits.ts';
import { defaultSettings, type DaemonSettings } from '../../../src/core/daemon/settings.ts';
import { newRecord } from '../../../src/core/daemon/torrent-record.ts';

type Entry = QueueEntry & { name: string };

function entry(name: string, queuePosition: number, fields: Partial<QueueEntry> = {}): Entry {
  return {
    name,
    queuePosition,
    paused: false,
    running: false,
    needsData: true,
    failed: false,
    ...fields,
  };
}

const names = (entries: readonly Entry[]) => entries.map((e) => e.name);

function settings(changes: Partial<DaemonSettings> = {}): DaemonSettings {
  return { ...defaultSettings('/tmp/unused'), ...changes };
}

describe('queueDecisions', () => {
  it('starts downloads in queue order while the download queue has room, queues the rest', () => {
    const entries = [entry('c', 2), entry('a', 0), entry('d', 3), entry('b', 1)];
    const { start, queued } = queueDecisions(
      entries,
      settings({ 'download-queue-enabled': true, 'download-queue-size': 2 }),
    );
    expect(names(start)).toEqual(['a', 'b']);
    expect(names(queued)).toEqual(['c', 'd']);
  });

  it('counts torrents already running, and never stops one when the size is lowered', () => {
    const entries = [
      entry('a', 0, { running: true }),
      entry('b', 1, { running: true }),
      entry('c', 2, { running: true }),
      entry('d', 3),
    ];
    const { start, queued } = queueDecisions(
      entries,
      settings({ 'download-queue-enabled': true, 'download-queue-size': 1 }),
    );
    expect(start).toEqual([]);
    expect(names(queued)).toEqual(['d']);
  });

  it('keeps seeds and downloads in separate queues', () => {
    const entries = [
      entry('seed1', 0, { needsData: false, running: true }),
      entry('dl1', 1),
      entry('seed2', 2, { needsData: false }),
      entry('dl2', 3),
    ];
    const { start, queued } = queueDecisions(
      entries,
      settings({
        'download-queue-enabled': true,
        'download-queue-size': 1,
        'seed-queue-enabled': true,
        'seed-queue-size': 1,
      }),
    );
    expect(names(start)).toEqual(['dl1']);
    expect(names(queued)).toEqual(['seed2', 'dl2']);
  });

  it('starts everything not paused or failed when the queues are off', () => {
    const entries = [
      entry('a', 0),
      entry('paused', 1, { paused: true }),
      entry('failed', 2, { failed: true }),
      entry('seed', 3, { needsData: false }),
    ];
    const { start, queued } = queueDecisions(
      entries,
      settings({ 'download-queue-enabled': false, 'seed-queue-enabled': false }),
    );
    expect(names(start)).toEqual(['a', 'seed']);
    expect(queued).toEqual([]);
  });
});

describe('moveInQueue', () => {
  const order = ['a', 'b', 'c', 'd', 'e'];

  it('moves up and down by one place, stopping at the ends', () => {
    expect(moveInQueue(order, ['c'], 'up')).toEqual(['a', 'c', 'b', 'd', 'e']);
    expect(moveInQueue(order, ['a'], 'up')).toEqual(order);
    expect(moveInQueue(order, ['c'], 'down')).toEqual(['a', 'b', 'd', 'c', 'e']);
    expect(moveInQueue(order, ['e'], 'down')).toEqual(order);
  });

  it('moves several to the top or bottom keeping their order among themselves', () => {
    expect(moveInQueue(order, ['b', 'd'], 'top')).toEqual(['b', 'd', 'a', 'c', 'e']);
    expect(moveInQueue(order, ['b', 'd'], 'bottom')).toEqual(['a', 'c', 'e', 'b', 'd']);
    // Neighbours moving down together keep their order too.
    expect(moveInQueue(order, ['b', 'c'], 'down')).toEqual(['a', 'd', 'b', 'c', 'e']);
  });

  it('ignores entries that are not in the queue', () => {
    expect(moveInQueue(order, ['zz', 'a'], 'bottom')).toEqual(['b', 'c', 'd', 'e', 'a']);
  });
});

describe('runLimits', () => {
  const record = (fields = {}) =>
    newRecord({
      id: 1,
      hash: 'h',
      magnet: null,
      name: 'n',
      downloadDir: '/d',
      paused: false,
      ...fields,
    });

  it('shares a session limit evenly among the running torrents, never under 1000 B/s', () => {
    const limited = settings({ 'speed-limit-down-enabled': true, 'speed-limit-down': 900 });
    expect(runLimits(record(), limited, 3).downloadLimit).toBe(300_000);
    expect(runLimits(record(), limited, 0).downloadLimit).toBe(900_000);
    expect(runLimits(record(), limited, 100_000).downloadLimit).toBe(1000);
    expect(runLimits(record(), limited, 3).uploadLimit).toBeUndefined();
  });

  it("takes the lower of the torrent's own limit and its share; or only its own when it ignores the session's", () => {
    const limited = settings({ 'speed-limit-up-enabled': true, 'speed-limit-up': 100 });
    const own = { uploadLimited: true, uploadLimit: 40_000 };
    expect(runLimits(record(own), limited, 1).uploadLimit).toBe(40_000);
    expect(runLimits(record({ ...own, uploadLimit: 500_000 }), limited, 1).uploadLimit).toBe(
      100_000,
    );
    expect(
      runLimits(record({ ...own, uploadLimit: 500_000, honorsSessionLimits: false }), limited, 1)
        .uploadLimit,
    ).toBe(500_000);
  });

  it('seed ratio: the torrent’s own (mode 1), the session’s (mode 0, when limited), or none (mode 2)', () => {
    const session = settings({ seedRatioLimited: true, seedRatioLimit: 3 });
    expect(runLimits(record({ seedRatioMode: 1, seedRatioLimit: 1.5 }), session, 1).seedRatio).toBe(
      1.5,
    );
    expect(runLimits(record({ seedRatioMode: 0 }), session, 1).seedRatio).toBe(3);
    expect(runLimits(record({ seedRatioMode: 0 }), settings(), 1).seedRatio).toBeUndefined();
    expect(runLimits(record({ seedRatioMode: 2 }), session, 1).seedRatio).toBeUndefined();
  });

  it('peers: the lower of the torrent’s and the global limit, at least one', () => {
    expect(
      runLimits(record({ peerLimit: 80 }), settings({ 'peer-limit-global': 60 }), 1).maxPeers,
    ).toBe(60);
    expect(runLimits(record({ peerLimit: 0 }), settings(), 1).maxPeers).toBe(1);
  });
});
