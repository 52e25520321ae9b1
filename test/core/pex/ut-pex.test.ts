import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PexState } from '../../../src/core/pex/pex-state.ts';
import {
  compactPeer,
  decodePex,
  encodePex,
  MAX_PEX_PAYLOAD,
  MAX_PEX_PEERS,
  PexFlag,
  type PexPeer,
} from '../../../src/core/pex/ut-pex-codec.ts';
import { WireProtocolError } from '../../../src/core/wire/errors.ts';
import { numRuns as FUZZ_RUNS } from '../../helpers/fuzz.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('ut_pex codec', () => {
  it('encodes IPv4 and IPv6 peers with flags in compact form', () => {
    const bytes = encodePex({
      added: [
        { host: '10.0.0.1', port: 6881, flags: PexFlag.seed | PexFlag.reachable },
        { host: '2001:db8::1', port: 51413, flags: PexFlag.supportsUtp },
      ],
      dropped: [{ host: '192.168.1.2', port: 1 }],
    });
    const latin = Buffer.from(bytes).toString('latin1');
    expect(latin.startsWith('d5:added6:\x0a\x00\x00\x01\x1a\xe1')).toBe(true);
    expect(latin).toContain('7:added.f1:\x12');
    expect(latin).toContain('6:added618:');
    expect(latin).toContain('7:dropped6:\xc0\xa8\x01\x02\x00\x01');
    expect(decodePex(bytes)).toEqual({
      added: [
        { host: '10.0.0.1', port: 6881, flags: 0x12 },
        { host: '2001:db8::1', port: 51413, flags: 0x04 },
      ],
      dropped: [{ host: '192.168.1.2', port: 1 }],
    });
  });

  it('drops unusable addresses, keeps flags aligned, tolerates missing keys and partial entries', () => {
    const added = Buffer.from([0, 0, 0, 0, 0, 80, 1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0x1a, 0xe1, 9, 9]);
    const payload = Buffer.concat([
      text('d5:added20:'),
      added,
      text('7:added.f3:'),
      Buffer.from([1, 2, 3]),
      text('e'),
    ]);
    expect(decodePex(payload)).toEqual({
      added: [{ host: '5.6.7.8', port: 6881, flags: 3 }],
      dropped: [],
    });
    expect(decodePex(text('de'))).toEqual({ added: [], dropped: [] });
    expect(decodePex(text('d5:addedi5ee'))).toEqual({ added: [], dropped: [] });
  });

  it('refuses garbage and oversized messages, caps list lengths', () => {
    expect(() => decodePex(text('l'))).toThrow(WireProtocolError);
    expect(() => decodePex(text('le'))).toThrow(WireProtocolError);
    expect(() => decodePex(new Uint8Array(MAX_PEX_PAYLOAD + 1))).toThrow(WireProtocolError);
    const many = Buffer.alloc(1000 * 6);
    for (let i = 0; i < 1000; i++) many.set([10, 0, i >> 8, i & 0xff, 0, 1], i * 6);
    const decoded = decodePex(Buffer.concat([text(`d5:added${many.length}:`), many, text('e')]));
    expect(decoded.added).toHaveLength(MAX_PEX_PEERS);
  });

  it('compactPeer refuses what is not an address', () => {
    expect(() => compactPeer({ host: 'example.com', port: 1 })).toThrow(RangeError);
    expect(() => compactPeer({ host: '1.2.3.4', port: 0 })).toThrow(RangeError);
    expect(Array.from(compactPeer({ host: '::ffff:1.2.3.4', port: 258 }))).toEqual([
      1, 2, 3, 4, 1, 2,
    ]);
  });

  it('round-trips random peer lists', () => {
    const v4 = fc
      .tuple(
        fc.integer({ min: 1, max: 223 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
      )
      .map((o) => o.join('.'));
    const v6 = fc
      .array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 })
      // Not multicast, not link-local (fe80::/10 has no usable compact form).
      .filter((g) => g[0]! >> 8 !== 0xff && g[0] !== 0 && (g[0]! & 0xffc0) !== 0xfe80)
      .map((g) => compactV6(g));
    const peer = fc.record({
      host: fc.oneof(v4, v6),
      port: fc.integer({ min: 1, max: 65535 }),
      flags: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(
        fc.array(peer, { maxLength: 60 }),
        fc.array(peer, { maxLength: 60 }),
        (added, droppedPeers) => {
          const dropped = droppedPeers.map(({ host, port }) => ({ host, port }));
          const decoded = decodePex(encodePex({ added, dropped }));
          const family = (p: { host: string }) => (p.host.includes(':') ? 1 : 0);
          const sorted = <T extends { host: string }>(list: T[]) => [
            ...list.filter((p) => family(p) === 0),
            ...list.filter((p) => family(p) === 1),
          ];
          expect(decoded.added).toEqual(sorted(added));
          expect(decoded.dropped).toEqual(sorted(dropped));
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('never throws anything but WireProtocolError on garbage', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('d5:added', 'd6:added6', 'd7:dropped', 'd', ''),
        fc.uint8Array({ maxLength: 300 }),
        (p, tail) => {
          try {
            const m = decodePex(Buffer.concat([text(p), tail]));
            for (const peer of [...m.added, ...m.dropped]) {
              expect(peer.port).toBeGreaterThan(0);
              expect(peer.host).not.toBe('0.0.0.0');
            }
          } catch (error) {
            expect(error).toBeInstanceOf(WireProtocolError);
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});

/** The canonical RFC 5952 spelling, from the WHATWG URL serializer (an independent implementation). */
function compactV6(groups: number[]): string {
  return new URL(`http://[${groups.map((g) => g.toString(16)).join(':')}]/`).hostname.slice(1, -1);
}

describe('PexState', () => {
  const p = (n: number, flags = 0): PexPeer => ({ host: `10.0.0.${n}`, port: 6881, flags });

  it('sends the first diff at once, then at most once a minute, and only changes', () => {
    const state = new PexState();
    expect(state.next('10.0.0.1:6881', [p(1), p(2), p(3)], 0)).toEqual({
      added: [p(2), p(3)],
      dropped: [],
    });
    expect(state.next('10.0.0.1:6881', [p(1), p(2), p(4)], 30_000)).toBeNull();
    expect(state.next('10.0.0.1:6881', [p(1), p(2), p(4)], 60_000)).toEqual({
      added: [p(4)],
      dropped: [{ host: '10.0.0.3', port: 6881 }],
    });
    // Nothing changed: nothing to send, and the clock does not restart.
    expect(state.next('10.0.0.1:6881', [p(2), p(4)], 120_000)).toBeNull();
    // A flag change is news.
    expect(state.next('10.0.0.1:6881', [p(2, PexFlag.seed), p(4)], 120_001)).toEqual({
      added: [p(2, PexFlag.seed)],
      dropped: [],
    });
  });

  it('caps each message and sends the rest later; forgets departed peers', () => {
    const state = new PexState({ maxPerMessage: 50 });
    const many = Array.from({ length: 120 }, (_, i) => p(i + 2));
    const first = state.next('x:1', many, 0)!;
    expect(first.added).toHaveLength(50);
    expect(state.next('x:1', many, 60_000)!.added).toHaveLength(50);
    expect(state.next('x:1', many, 120_000)!.added).toHaveLength(20);
    expect(state.next('x:1', [], 180_000)!.dropped).toHaveLength(50);
    state.forget('x:1');
    expect(state.next('x:1', [p(9)], 180_001)).toEqual({ added: [p(9)], dropped: [] });
  });

  it('never tells a peer about itself and never repeats what it already knows (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 30 }), {
          minLength: 1,
          maxLength: 20,
        }),
        (snapshots) => {
          const state = new PexState({ intervalMs: 0, maxPerMessage: 10 });
          const known = new Set<string>();
          let now = 0;
          for (const snapshot of snapshots) {
            const msg = state.next(
              '10.0.0.1:6881',
              snapshot.map((n) => p(n)),
              (now += 1),
            );
            if (!msg) continue;
            for (const a of msg.added) {
              expect(a.host).not.toBe('10.0.0.1');
              expect(known.has(a.host)).toBe(false);
              known.add(a.host);
            }
            for (const d of msg.dropped) {
              expect(known.has(d.host)).toBe(true);
              known.delete(d.host);
            }
            expect(msg.added.length).toBeLessThanOrEqual(10);
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});
