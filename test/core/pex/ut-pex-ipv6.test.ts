/**
 * ut_pex's IPv6 half (BEP 11 `added6`, `added6.f`, `dropped6`): both
 * directions, hostile lengths, addresses that must not travel, and the
 * diff PexState builds for a swarm with both families.
 */
import { describe, expect, it } from 'vitest';
import { encodeBencode } from '../../../src/core/bencode/index.ts';
import { PexIntake } from '../../../src/core/pex/pex-intake.ts';
import { PexState } from '../../../src/core/pex/pex-state.ts';
import { decodePex, encodePex, PexFlag } from '../../../src/core/pex/ut-pex-codec.ts';

/** 18-byte compact entry for `::N` style test addresses in 2001:db8::/32. */
function entry6(last: number, port: number): number[] {
  return [0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), last, port >> 8, port & 0xff];
}

describe('ut_pex over IPv6', () => {
  it('puts IPv6 peers in added6 / dropped6 with their flags, IPv4 ones in added / dropped', () => {
    const bytes = encodePex({
      added: [
        { host: '2001:db8::1', port: 6881, flags: PexFlag.seed },
        { host: '10.0.0.1', port: 6882, flags: 0 },
        { host: '::1', port: 6883, flags: PexFlag.reachable },
      ],
      dropped: [
        { host: '2001:db8::2', port: 1 },
        { host: '10.0.0.2', port: 2 },
      ],
    });
    const latin = Buffer.from(bytes).toString('latin1');
    expect(latin).toContain(`6:added636:${Buffer.from(entry6(1, 6881)).toString('latin1')}`);
    expect(latin).toContain('8:added6.f2:\x02\x10');
    expect(latin).toContain(`8:dropped618:${Buffer.from(entry6(2, 1)).toString('latin1')}`);
    expect(decodePex(bytes)).toEqual({
      added: [
        { host: '10.0.0.1', port: 6882, flags: 0 },
        { host: '2001:db8::1', port: 6881, flags: PexFlag.seed },
        { host: '::1', port: 6883, flags: PexFlag.reachable },
      ],
      dropped: [
        { host: '10.0.0.2', port: 2 },
        { host: '2001:db8::2', port: 1 },
      ],
    });
  });

  it('leaves out peers with no compact form (link-local with a zone) instead of throwing', () => {
    const bytes = encodePex({
      added: [
        { host: 'fe80::1%eth0', port: 6881, flags: 0 },
        { host: 'fe80::2', port: 6881, flags: 0 },
        { host: '2001:db8::3', port: 6881, flags: 1 },
      ],
      dropped: [{ host: 'fe80::1%eth0', port: 6881 }],
    });
    expect(decodePex(bytes)).toEqual({
      added: [{ host: '2001:db8::3', port: 6881, flags: 1 }],
      dropped: [],
    });
  });

  it.each([17, 19, 35, 53])(
    'reads the whole entries of a %i-byte added6 and skips the partial one, flags by position',
    (length) => {
      const list = Uint8Array.from([...entry6(1, 1), ...entry6(2, 2), ...entry6(3, 3)]).subarray(
        0,
        length,
      );
      const payload = encodeBencode(
        new Map<string, Uint8Array>([
          ['added6', list],
          ['added6.f', Uint8Array.from([7, 8, 9])],
          ['dropped6', list],
        ]),
      );
      const whole = Math.floor(length / 18);
      const decoded = decodePex(payload);
      expect(decoded.added).toEqual(
        Array.from({ length: whole }, (_, i) => ({
          host: `2001:db8::${i + 1}`,
          port: i + 1,
          flags: 7 + i,
        })),
      );
      expect(decoded.dropped).toHaveLength(whole);
    },
  );

  it('drops unusable IPv6 entries but keeps the flags of later ones aligned', () => {
    const linkLocal = [0xfe, 0x80, ...Array<number>(13).fill(0), 1, 0x1a, 0xe1];
    const mapped = [...Array<number>(10).fill(0), 0xff, 0xff, 192, 0, 2, 1, 0x1a, 0xe1];
    const payload = encodeBencode(
      new Map<string, Uint8Array>([
        ['added6', Uint8Array.from([...linkLocal, ...mapped, ...entry6(9, 9)])],
        ['added6.f', Uint8Array.from([1, 2, 3])],
      ]),
    );
    expect(decodePex(payload).added).toEqual([
      // IPv4-mapped in added6 is the IPv4 peer it names.
      { host: '192.0.2.1', port: 6881, flags: 2 },
      { host: '2001:db8::9', port: 9, flags: 3 },
    ]);
  });

  it('tells each peer of the others, across families, never of itself', () => {
    const state = new PexState({ intervalMs: 0 });
    const peers = [
      { host: '::1', port: 7001, flags: 0 },
      { host: '127.0.0.1', port: 7002, flags: 0 },
      { host: '2001:db8::5', port: 7003, flags: PexFlag.seed },
    ];
    const toV6 = state.next('[::1]:7001', peers, 0);
    expect(toV6?.added).toEqual([peers[1], peers[2]]);
    const later = state.next('[::1]:7001', [peers[0]!, peers[1]!], 1);
    expect(later).toEqual({ added: [], dropped: [{ host: '2001:db8::5', port: 7003 }] });
    const payload = encodePex(later!);
    expect(Buffer.from(payload).toString('latin1')).toContain('8:dropped618:');
  });

  it('takes ::1 peers only from a loopback sender (IPv6 or IPv4)', () => {
    const payload = encodePex({
      added: [
        { host: '::1', port: 7001, flags: 0 },
        { host: '2001:db8::1', port: 7002, flags: 0 },
      ],
      dropped: [],
    });
    const public6 = new PexIntake().receive({ key: 'k', host: '2001:db8::99' }, payload, 0);
    expect(public6).toEqual([{ host: '2001:db8::1', port: 7002 }]);
    const loopback6 = new PexIntake().receive({ key: 'k', host: '::1' }, payload, 0);
    expect(loopback6).toHaveLength(2);
    const loopback4 = new PexIntake().receive({ key: 'k', host: '127.0.0.1' }, payload, 0);
    expect(loopback4).toHaveLength(2);
  });
});
