/**
 * Property tests of the BEP 11 ut_pex codec. See test/helpers/fuzz.ts for
 * FUZZ_RUNS / FUZZ_SEED.
 *
 * Decoding is lossy on purpose (unusable addresses and partial entries are
 * dropped, lists are cut to 200, other keys and trailing bytes ignored, an
 * IPv4-mapped IPv6 peer becomes the IPv4 peer), so the canonical form is the
 * decoder's image: for any accepted x, decode(encode(decode(x))) is
 * decode(x) and re-encoding it gives the same bytes. Added peers come out
 * IPv4 first, then IPv6, each in message order (and dropped ones likewise).
 */
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import { encodeBencode } from '../../../src/core/bencode/index.ts';
import { decodePex, encodePex, type PexMessage } from '../../../src/core/pex/ut-pex-codec.ts';
import { parseCompactPeers4, parseCompactPeers6 } from '../../../src/core/net/compact-peers.ts';
import { WireProtocolError } from '../../../src/core/wire/errors.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';

const port = fc.integer({ min: 1, max: 0xffff });
const host4 = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.uint8Array({ minLength: 3, maxLength: 3 }))
  .map(([first, rest]) => parseCompactPeers4(Uint8Array.of(first, ...rest, 0, 1))[0]!.host);
const host6 = fc
  // Up to 0xfd: fe80::/10 (link-local) has no usable compact form.
  .tuple(fc.integer({ min: 0x20, max: 0xfd }), fc.uint8Array({ minLength: 15, maxLength: 15 }))
  .map(([first, rest]) => parseCompactPeers6(Uint8Array.of(first, ...rest, 0, 1))[0]!.host);
const peer = (host: fc.Arbitrary<string>) =>
  fc.record({ host, port, flags: fc.integer({ min: 0, max: 255 }) });
const address = (host: fc.Arbitrary<string>) => fc.record({ host, port });

const arbMessage = fc
  .record({
    added4: fc.array(peer(host4), { maxLength: 5 }),
    added6: fc.array(peer(host6), { maxLength: 5 }),
    dropped4: fc.array(address(host4), { maxLength: 5 }),
    dropped6: fc.array(address(host6), { maxLength: 5 }),
  })
  .map(({ added4, added6, dropped4, dropped6 }): PexMessage => ({
    added: [...added4, ...added6],
    dropped: [...dropped4, ...dropped6],
  }));

/** Lists of any bytes (partial entries, unusable addresses, mapped ones) and wrong types. */
const arbOddPayload = fc
  .dictionary(
    fc.constantFrom('added', 'added.f', 'added6', 'added6.f', 'dropped', 'dropped6', 'x'),
    fc.oneof(fc.uint8Array({ maxLength: 60 }), fc.integer(), fc.constant([])),
    { maxKeys: 7 },
  )
  .map((dict) => encodeBencode(dict));

describe('ut_pex codec properties', () => {
  fuzzIt(
    'round-trips: decode(encode(m)) is m, and re-encoding gives the same bytes',
    fc.property(arbMessage, (message) => {
      const bytes = encodePex(message);
      const decoded = decodePex(bytes);
      expect(decoded).toEqual(message);
      expect(hex(encodePex(decoded))).toBe(hex(bytes));
    }),
  );

  fuzzIt(
    'anything accepted is a fixpoint: encode(decode(x)) decodes to decode(x), bytes stable',
    fc.property(mutatedFrom(fc.oneof(arbMessage.map(encodePex), arbOddPayload), 80), (bytes) => {
      let decoded: PexMessage;
      try {
        decoded = decodePex(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(WireProtocolError);
        expect((error as WireProtocolError).code).toBe('bad-extension');
        return;
      }
      const canonical = encodePex(decoded);
      const again = decodePex(canonical);
      expect(again).toEqual(decoded);
      expect(hex(encodePex(again))).toBe(hex(canonical));
    }),
  );
});
