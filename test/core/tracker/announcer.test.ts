import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Announcer,
  reannounceDelayMs,
  type AnnouncerEvents,
  type AnnouncerOptions,
  type TrackerErrorEvent,
  type WarningEvent,
} from '../../../src/core/tracker/announcer.ts';
import { freePort } from '../../helpers/ports.ts';
import {
  startHttpTracker,
  startUdpTracker,
  type HttpTrackerHandle,
  type UdpTrackerHandle,
} from './fake-trackers.ts';

/**
 * The next event of one kind. Not events.once: that rejects on any 'error'
 * event, and the announcer emits a (non-fatal) 'error' per failed tracker.
 */
function once<K extends keyof AnnouncerEvents>(
  announcer: Announcer,
  name: K,
): Promise<AnnouncerEvents[K]> {
  return new Promise((resolve) => {
    const listener = (...args: AnnouncerEvents[K]) => resolve(args);
    (announcer.once as (n: K, l: typeof listener) => Announcer)(name, listener);
  });
}

// Fisher-Yates with random() close to 1 swaps nothing: tiers keep their given order.
const keepOrder = () => 0.999999;

describe('Announcer', () => {
  let http: HttpTrackerHandle;
  let udp: UdpTrackerHandle;
  const announcers: Announcer[] = [];

  beforeAll(async () => {
    http = await startHttpTracker();
    udp = await startUdpTracker();
  });
  afterEach(async () => {
    await Promise.all(announcers.splice(0).map((a) => a.stop()));
    http.announceBody = {
      interval: 1800,
      complete: 3,
      incomplete: 4,
      peers: http.announceBody.peers,
    };
    udp.mode = 'normal';
  });
  afterAll(async () => {
    await http.close();
    await udp.close();
  });

  function make(trackers: string[][], extra: Partial<AnnouncerOptions> = {}): Announcer {
    const announcer = new Announcer({
      infoHash: Buffer.alloc(20, 7),
      peerId: Buffer.from('-SH0001-announcer001'),
      port: 51413,
      trackers,
      stats: () => ({ uploaded: 1, downloaded: 2, left: 3 }),
      random: keepOrder,
      http: { timeoutMs: 1000 },
      udp: { retransmitMs: [150, 300] },
      stopTimeoutMs: 1000,
      ...extra,
    });
    announcers.push(announcer);
    return announcer;
  }

  const events = (path: string) =>
    http.requests.filter((r) => r.path === path).map((r) => r.query.get('event')?.toString());

  it('falls back within a tier when the first tracker is dead, then promotes the responder', async () => {
    const dead = `http://127.0.0.1:${await freePort()}/announce`;
    udp.mode = 'silent';
    const announcer = make([[dead, udp.url, `${http.base}/announce`]]);
    const errors: TrackerErrorEvent[] = [];
    announcer.on('error', (e) => errors.push(e));
    const peers = once(announcer, 'peers');
    announcer.start();
    const [event] = await peers;
    expect(event.tracker).toBe(`${http.base}/announce`);
    expect(event.peers).toEqual([
      { host: '10.0.0.1', port: 6881 },
      { host: '10.0.0.2', port: 6882 },
    ]);
    expect(errors.map((e) => [e.tracker, e.error.code])).toEqual([
      [dead, 'network'],
      [udp.url, 'timeout'],
    ]);
    expect(announcer.tiers).toEqual([[`${http.base}/announce`, dead, udp.url]]);
  });

  it('announces tiers in order: a later tier only once every tracker of the earlier ones failed', async () => {
    http.requests.length = 0;
    udp.requests.length = 0;
    const dead = `http://127.0.0.1:${await freePort()}/announce`;
    const announcer = make([
      [dead, `${http.base}/fail-later/1`],
      [`${http.base}/fail-later/2`],
      [udp.url, `${http.base}/announce`],
      [`${http.base}/announce?tier=4`],
    ]);
    const errors: string[] = [];
    announcer.on('error', (e) => errors.push(e.tracker));
    const response = once(announcer, 'response');
    announcer.start();
    expect((await response)[0].tracker).toBe(udp.url);
    expect(errors).toEqual([dead, `${http.base}/fail-later/1`, `${http.base}/fail-later/2`]);
    // The tracker after the responder in its tier, and the whole later tier, were never asked.
    expect(http.requests.map((r) => r.path)).toEqual(['/fail-later/1', '/fail-later/2']);
    expect(udp.requests.filter((r) => r.action === 1)).toHaveLength(1);
    expect(http.maxInFlight).toBe(1);
  });

  it('has one announce in flight at a time, however many trackers fail', async () => {
    http.requests.length = 0;
    http.maxInFlight = 0;
    const tiers = Array.from({ length: 12 }, (_, i) => [`${http.base}/fail-later/${i}`]);
    tiers.push([`${http.base}/announce`]);
    const announcer = make(tiers);
    const response = once(announcer, 'response');
    announcer.start();
    expect((await response)[0].tracker).toBe(`${http.base}/announce`);
    expect(http.requests.map((r) => r.path)).toEqual([
      ...tiers.slice(0, 12).map((_, i) => `/fail-later/${i}`),
      '/announce',
    ]);
    expect(http.maxInFlight).toBe(1);
  });

  it('uses at most maxTrackers trackers and says how many it ignored', async () => {
    const tiers = Array.from({ length: 30 }, (_, i) => [`${http.base}/fail-later/${i}`]);
    const announcer = make(
      [['not a url'], ['wss://x/announce'], ...tiers, [`${http.base}/announce`]],
      { maxTrackers: 20 },
    );
    const warnings: string[] = [];
    announcer.on('warning', (w) => warnings.push(w.message));
    expect(announcer.tiers.flat()).toHaveLength(20);
    // Every tracker fails: the walk ends after the 20th, then backs off.
    const failures: string[] = [];
    const twentieth = new Promise<void>((resolve) =>
      announcer.on('error', (e) => {
        failures.push(e.tracker);
        if (failures.length === 20) resolve();
      }),
    );
    announcer.start();
    expect(warnings).toEqual([
      expect.stringContaining('invalid URL'),
      expect.stringContaining('only http, https and udp'),
      'using the first 20 trackers; 11 more ignored',
    ]);
    await twentieth;
    expect(failures).toEqual(tiers.slice(0, 20).map(([url]) => url));
  });

  it('warns about the first ten unusable URLs one by one and counts the rest', () => {
    const bad = Array.from({ length: 25 }, (_, i) => [`ftp://host${i}/announce`]);
    const announcer = make(bad);
    const warnings: string[] = [];
    announcer.on('warning', (w) => warnings.push(w.message));
    announcer.start();
    expect(warnings).toHaveLength(12);
    expect(warnings.at(-2)).toBe('skipped 15 more unusable tracker URLs');
    expect(warnings.at(-1)).toBe('no usable trackers');
  });

  it('skips unsupported schemes with a warning and never throws for bad URLs', async () => {
    const announcer = make([['wss://t.example/announce', 'dht://x', 'not a url', 'udp://noport']]);
    const warnings: WarningEvent[] = [];
    announcer.on('warning', (w) => warnings.push(w));
    announcer.start();
    expect(warnings.map((w) => w.message)).toEqual([
      expect.stringContaining('only http, https and udp'),
      expect.stringContaining('only http, https and udp'),
      expect.stringContaining('invalid URL'),
      expect.stringContaining('needs a host and a port'),
      'no usable trackers',
    ]);
    expect(announcer.tiers).toEqual([]);
    announcer.announceNow();
    await announcer.stop();
  });

  it('sends started, completed and stopped, and passes warnings on', async () => {
    const path = '/announce';
    http.requests.length = 0;
    http.announceBody = { ...http.announceBody, 'warning message': 'be gentle' };
    const announcer = make([[`${http.base}${path}`]]);
    const warning = once(announcer, 'warning');
    announcer.start();
    expect((await warning)[0]).toEqual({ tracker: `${http.base}${path}`, message: 'be gentle' });
    const completed = once(announcer, 'response');
    announcer.complete();
    await completed;
    await announcer.stop();
    expect(events(path)).toEqual(['started', 'completed', 'stopped']);
    const last = http.requests.at(-1)!.query;
    expect(last.get('numwant')!.toString()).toBe('0');
    expect(last.get('left')!.toString()).toBe('3');
  });

  it('announceNow re-announces once the min interval allows', async () => {
    http.requests.length = 0;
    http.announceBody = { ...http.announceBody, interval: 3600, 'min interval': 0 };
    const announcer = make([[`${http.base}/announce`]], { intervalFloorSec: 0 });
    announcer.start();
    await once(announcer, 'response');
    const again = once(announcer, 'response');
    announcer.announceNow();
    await again;
    expect(events('/announce')).toEqual(['started', undefined]);
  });

  it('announceNow waits for the min interval instead of hammering', async () => {
    http.requests.length = 0;
    http.announceBody = { ...http.announceBody, interval: 3600, 'min interval': 600 };
    const announcer = make([[`${http.base}/announce`]]);
    announcer.start();
    await once(announcer, 'response');
    announcer.announceNow();
    announcer.announceNow();
    // `completed` goes out at once, min interval or not. Had either announceNow sent a
    // plain announce, it would have reached the tracker first (each runs to completion
    // before the next starts), so the tracker's log proves nothing was sent in between.
    const completed = once(announcer, 'response');
    announcer.complete();
    await completed;
    expect(events('/announce')).toEqual(['started', 'completed']);
  });

  it('keeps the tracker id and survives a throwing stats callback', async () => {
    http.requests.length = 0;
    http.announceBody = { ...http.announceBody, 'tracker id': 'T-1', 'min interval': 0 };
    const announcer = make([[`${http.base}/announce`]], {
      intervalFloorSec: 0,
      stats: () => {
        throw new Error('boom');
      },
    });
    announcer.start();
    await once(announcer, 'response');
    const again = once(announcer, 'response');
    announcer.announceNow();
    await again;
    expect(http.requests[1]!.query.get('trackerid')!.toString()).toBe('T-1');
    expect(http.requests[1]!.query.get('left')!.toString()).toBe('0');
  });

  it('reports a tracker failure as an error event and retries later', async () => {
    const announcer = make([[`${http.base}/fail`]]);
    const [event] = await (async () => {
      const p = once(announcer, 'error');
      announcer.start();
      return p;
    })();
    expect(event.error.code).toBe('failure');
    expect(event.error.message).toContain('torrent not registered');
  });

  it('does not crash when nobody listens for errors, and moves on to the next tier', async () => {
    http.requests.length = 0;
    const dead = `http://127.0.0.1:${await freePort()}/announce`;
    const announcer = make([[dead], [`${http.base}/fail`], [`${http.base}/announce`]]);
    expect(announcer.listenerCount('error')).toBe(0);
    const response = once(announcer, 'response');
    announcer.start();
    // Both failures were handled (an unhandled 'error' event would have thrown) before
    // the third tier was asked.
    expect((await response)[0].tracker).toBe(`${http.base}/announce`);
    expect(http.requests.map((r) => r.path)).toEqual(['/fail', '/announce']);
    await announcer.stop();
  });

  it('stop is bounded even when the tracker never answers', async () => {
    udp.mode = 'normal';
    const announcer = make([[udp.url]], { stopTimeoutMs: 300 });
    announcer.start();
    await once(announcer, 'response');
    udp.mode = 'silent';
    udp.requests.length = 0;
    await announcer.stop();
    expect(udp.requests.map((r) => r.event)).toEqual([3]);
  });
});

describe('re-announce spread', () => {
  it('comes up to a tenth of the interval early, never before the min interval', () => {
    expect(reannounceDelayMs(1800, 900, () => 0)).toBe(1_800_000);
    expect(reannounceDelayMs(1800, 900, () => 0.5)).toBe(1_710_000);
    expect(reannounceDelayMs(1800, 900, () => 0.999)).toBeGreaterThan(1_620_000);
    expect(reannounceDelayMs(1800, 1750, () => 0.999)).toBe(1_750_000);
  });

  it('spreads torrents added together over the last tenth of the interval', () => {
    const delays = Array.from({ length: 200 }, () => reannounceDelayMs(1800, 900, Math.random));
    const seconds = new Set(delays.map((ms) => Math.floor(ms / 1000)));
    // 200 torrents over 180 possible seconds: far from all in one.
    expect(seconds.size).toBeGreaterThan(50);
  });
});
