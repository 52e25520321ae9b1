import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Announcer,
  type AnnouncerEvents,
  type AnnouncerOptions,
  type TrackerErrorEvent,
  type WarningEvent,
} from '../../../src/core/tracker/announcer.ts';
import {
  freePort,
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

  it('announces all tiers in parallel and reports each response', async () => {
    const announcer = make([[`${http.base}/announce`], [udp.url]]);
    const responses: string[] = [];
    const both = new Promise<void>((resolve) =>
      announcer.on('response', (r) => {
        responses.push(r.tracker);
        expect(r.seeders).toBe(3);
        if (responses.length === 2) resolve();
      }),
    );
    announcer.start();
    await both;
    expect(responses.sort()).toEqual([`${http.base}/announce`, udp.url].sort());
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
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(events('/announce')).toEqual(['started']);
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

  it('does not crash when nobody listens for errors', async () => {
    const announcer = make([[`http://127.0.0.1:${await freePort()}/announce`]]);
    announcer.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
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
