/**
 * Property tests of the compact peer lists (BEP 23 IPv4, BEP 7 IPv6) that
 * trackers and PEX send. See test/helpers/fuzz.ts for FUZZ_RUNS / FUZZ_SEED.
 *
 * peers.ts only decodes; the encoder used here is PEX's compactPeer, the one
 * shoal sends with. Canonical form: an accepted list re-encodes to the input
 * minus its unusable entries (port 0; IPv4 0/8 and 224/4 and above; IPv6 ::
 * and ff00::/8) and minus a trailing partial entry, with each IPv4-mapped
 * IPv6 entry (::ffff:a.b.c.d) spelled as the 6-byte IPv4 entry it names.
 */
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import { compactPeer } from '../../../src/core/pex/ut-pex-codec.ts';
import { parseCompactPeers4, parseCompactPeers6 } from '../../../src/core/net/compact-peers.ts';
import { validatePeer } from '../../../src/core/net/peer-address.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';

const port = fc.integer({ min: 1, max: 0xffff }).map((p) => [p >> 8, p & 0xff]);
const usable4 = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.uint8Array({ minLength: 3, maxLength: 3 }), port)
  .map(([first, rest, p]) => Uint8Array.of(first, ...rest, ...p));
const usable6 = fc
  .tuple(fc.integer({ min: 0, max: 0xfe }), fc.uint8Array({ minLength: 15, maxLength: 15 }), port)
  .map(([first, rest, p]) => Uint8Array.of(first, ...rest, ...p))
  .filter(
    (entry) =>
      entry.subarray(0, 16).some((b) => b !== 0) && !isMapped(entry) && !isLinkLocal(entry),
  );

/** fe80::/10: undialable without the zone no compact entry carries. */
function isLinkLocal(entry: Uint8Array): boolean {
  return entry[0] === 0xfe && (entry[1]! & 0xc0) === 0x80;
}

function isMapped(entry: Uint8Array): boolean {
  return entry.subarray(0, 10).every((b) => b === 0) && entry[10] === 0xff && entry[11] === 0xff;
}

/** The model: the canonical bytes of one entry, or null when the entry is unusable. */
function canonicalEntry(entry: Uint8Array): Uint8Array | null {
  const port = (entry[entry.length - 2]! << 8) | entry[entry.length - 1]!;
  if (port === 0) return null;
  if (entry.length === 18 && isMapped(entry)) return canonicalEntry(entry.subarray(12));
  if (entry.length === 6) return entry[0] !== 0 && entry[0]! < 224 ? entry : null;
  if (entry.subarray(0, 16).every((b) => b === 0) || entry[0] === 0xff) return null;
  if (isLinkLocal(entry)) return null;
  return entry;
}

const concat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('compact peer list properties', () => {
  fuzzIt(
    'round-trips: usable entries parse to peers that compactPeer writes back byte for byte',
    fc.property(
      fc.array(usable4, { maxLength: 8 }),
      fc.array(usable6, { maxLength: 8 }),
      (v4, v6) => {
        const peers4 = parseCompactPeers4(concat(v4));
        const peers6 = parseCompactPeers6(concat(v6));
        expect(peers4.length).toBe(v4.length);
        expect(peers6.length).toBe(v6.length);
        expect(hex(concat(peers4.map(compactPeer)))).toBe(hex(concat(v4)));
        expect(hex(concat(peers6.map(compactPeer)))).toBe(hex(concat(v6)));
        // The host text is canonical: validating it again changes nothing.
        for (const peer of [...peers4, ...peers6])
          expect(validatePeer(peer.host, peer.port)).toEqual(peer);
      },
    ),
  );

  for (const [family, entry, parse, valid] of [
    ['IPv4', 6, parseCompactPeers4, usable4],
    ['IPv6', 18, parseCompactPeers6, usable6],
  ] as const) {
    fuzzIt(
      `${family}: anything accepted re-encodes to the input's usable entries, in order`,
      fc.property(mutatedFrom(fc.array(valid, { maxLength: 6 }).map(concat), 120), (bytes) => {
        const peers = parse(bytes);
        const expected: Uint8Array[] = [];
        for (let at = 0; at + entry <= bytes.length; at += entry) {
          const canonical = canonicalEntry(bytes.subarray(at, at + entry));
          if (canonical) expected.push(canonical);
        }
        expect(hex(concat(peers.map(compactPeer)))).toBe(hex(concat(expected)));
      }),
    );
  }
});
