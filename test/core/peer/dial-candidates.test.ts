import { describe, expect, it } from 'vitest';
import {
  DialCandidates,
  FIRST_RETRY_MS,
  MAX_RETRY_MS,
} from '../../../src/core/peer/dial-candidates.ts';

const keys = (list: DialCandidates, now: number) => [...list.dialable(now)].map((c) => c.key);

describe('dial candidates', () => {
  it('keeps each address once, in canonical form, and refuses unusable ones', () => {
    const list = new DialCandidates({ max: 10 });
    const added = list.add(
      [
        { host: '10.0.0.1', port: 6881 },
        { host: '::ffff:10.0.0.1', port: 6881 }, // the same peer, IPv4-mapped
        { host: '0.0.0.0', port: 6881 },
        { host: '10.0.0.2', port: 0 },
        { host: 'ff02::1', port: 6881 }, // multicast
        { host: 'seedbox.example', port: 51413 }, // a name someone typed
      ],
      'test',
    );
    expect(added).toBe(2);
    expect(keys(list, 0)).toEqual(['10.0.0.1:6881', 'seedbox.example:51413']);
  });

  it('never lists our own address', () => {
    const list = new DialCandidates({ max: 10, isSelf: (a) => a.port === 7000 });
    list.add([{ host: '127.0.0.1', port: 7000 }], 'pex');
    expect(list.size).toBe(0);
  });

  it('backs off 5 s, 10 s, 20 s ... up to 5 minutes, and forgives a peer that connected', () => {
    const list = new DialCandidates({ max: 10 });
    list.add([{ host: '10.0.0.1', port: 1 }], 'test');
    const candidate = list.get('10.0.0.1:1')!;
    const waits: number[] = [];
    for (let i = 0; i < 9; i++) {
      list.dialing(candidate);
      expect(keys(list, 0)).toEqual([]);
      list.failed(candidate, 0);
      waits.push(candidate.nextAttemptAt);
    }
    expect(waits.slice(0, 4)).toEqual([1, 2, 4, 8].map((n) => n * FIRST_RETRY_MS));
    expect(waits.at(-1)).toBe(MAX_RETRY_MS);
    expect(keys(list, MAX_RETRY_MS - 1)).toEqual([]);
    expect(keys(list, MAX_RETRY_MS)).toEqual(['10.0.0.1:1']);
    list.dialing(candidate);
    list.connected(candidate);
    list.closed(candidate, 5000, 0);
    list.failed(candidate, 0);
    expect(candidate.nextAttemptAt).toBe(FIRST_RETRY_MS);
  });

  it('never offers a forbidden address again', () => {
    const list = new DialCandidates({ max: 10 });
    list.add([{ host: '10.0.0.1', port: 1 }], 'test');
    list.forbid('10.0.0.1:1');
    expect(keys(list, Number.MAX_SAFE_INTEGER)).toEqual([]);
    list.add([{ host: '10.0.0.1', port: 1 }], 'again');
    expect(keys(list, Number.MAX_SAFE_INTEGER)).toEqual([]);
  });

  it('when full, makes room only by forgetting an address that failed', () => {
    const list = new DialCandidates({ max: 2 });
    list.add(
      [
        { host: '10.0.0.1', port: 1 },
        { host: '10.0.0.2', port: 1 },
      ],
      'test',
    );
    expect(list.add([{ host: '10.0.0.3', port: 1 }], 'flood')).toBe(0);
    const first = list.get('10.0.0.1:1')!;
    list.dialing(first);
    list.failed(first, 0);
    expect(list.add([{ host: '10.0.0.3', port: 1 }], 'flood')).toBe(1);
    expect([...list.values()].map((c) => c.key)).toEqual(['10.0.0.2:1', '10.0.0.3:1']);
    expect(list.waiting(0, 1)).toBe(1);
    expect(list.waiting(0, 0)).toBe(0);
  });
});
