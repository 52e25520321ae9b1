/**
 * Property tests of the BEP 10 extended handshake codec (extension.ts). See
 * test/helpers/fuzz.ts for FUZZ_RUNS / FUZZ_SEED.
 *
 * Decoding is lossy on purpose: unknown keys, fields of the wrong type or
 * range, and bytes after the dictionary are dropped, and `v` is made safe for
 * display. So "accepted re-encodes to what was read" holds in this canonical
 * form: for any accepted payload x, encode(decode(x)) decodes to decode(x)
 * again, and re-encoding that gives the same bytes (the decoder's image is a
 * fixpoint). For payloads already in that form (sorted keys, only the fields
 * shoal knows, each valid) the bytes come back unchanged.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeBencode } from '../../../src/core/bencode/index.ts';
import { WireProtocolError } from '../../../src/core/wire/errors.ts';
import {
  decodeExtendedHandshake,
  encodeExtendedHandshake,
  type ExtendedHandshake,
} from '../../../src/core/wire/extension.ts';
import { displaySafe } from '../../../src/core/wire/display.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';

/**
 * Names as peers send them ("ut_metadata", "lt_donthave", …), plus any Unicode
 * except what the bencode layer spells differently on purpose: `__proto__` is
 * refused, and a key holding U+FFFD reads back as the hex of its bytes (the
 * rule for keys that are not valid UTF-8).
 */
const arbName = fc.oneof(
  fc.constantFrom('ut_metadata', 'ut_pex', 'lt_donthave', 'upload_only', 'ut_holepunch'),
  fc
    .string({ maxLength: 12, unit: 'grapheme' })
    .filter((name) => name !== '__proto__' && !name.includes('\uFFFD')),
);

const arbHandshake: fc.Arbitrary<ExtendedHandshake> = fc
  .record(
    {
      m: fc.uniqueArray(fc.tuple(arbName, fc.integer({ min: 0, max: 255 })), {
        maxLength: 5,
        selector: ([name]) => name,
      }),
      v: fc.string({ maxLength: 70, unit: 'grapheme' }).map((text) => displaySafe(text)),
      p: fc.integer({ min: 1, max: 0xffff }),
      reqq: fc.integer({ min: 1, max: 0xffffffff }),
      metadataSize: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      yourIp: fc.oneof(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
      ),
      ipv4: fc.uint8Array({ minLength: 4, maxLength: 4 }),
      ipv6: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      uploadOnly: fc.boolean(),
    },
    { requiredKeys: ['m'] },
  )
  .map(({ m, ...rest }) => ({ m: new Map(m), ...rest }));

/** Valid payloads, and dictionaries with extra keys and fields of the wrong type or range. */
const arbPayload = fc.oneof(
  arbHandshake.map(encodeExtendedHandshake),
  fc
    .dictionary(
      fc.constantFrom('m', 'v', 'p', 'reqq', 'metadata_size', 'yourip', 'ipv4', 'ipv6', 'x'),
      fc.oneof(
        fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
        fc.integer({ min: -2, max: 70000 }),
        fc.uint8Array({ maxLength: 20 }),
        fc.dictionary(arbName, fc.integer({ min: -1, max: 300 }), { maxKeys: 3 }),
      ),
      { maxKeys: 6 },
    )
    .map((dict) => encodeBencode(dict)),
  // Client names around the 64-character display cap, with spaces and control characters.
  fc
    .string({
      unit: fc.constantFrom('a', ' ', 'é', 'b', '\u0007'),
      minLength: 64,
      maxLength: 90,
      size: 'max',
    })
    .map((v) => encodeBencode({ m: {}, v })),
);

describe('extended handshake codec properties', () => {
  it('regression: a reqq above 2^32 - 1 that the decoder accepts can be encoded again', () => {
    // Found by the fixpoint property below: the decoder took reqq up to 2^53 - 1 ("clamp
    // before use") but the encoder threw RangeError above 2^32 - 1.
    const bytes = new TextEncoder().encode('d4:reqqi4294967296ee');
    const decoded = decodeExtendedHandshake(bytes);
    expect(decoded.reqq).toBe(4294967296);
    expect(hex(encodeExtendedHandshake(decoded))).toBe(
      hex(encodeBencode({ m: {}, reqq: 4294967296 })),
    );
  });

  it('regression: a client name cut at 64 characters does not end in a space', () => {
    // Found by the fixpoint property below: `v` was trimmed before the 64-character cut,
    // so a cut just after a space kept it, and decoding the re-encoded name dropped it.
    const v = `${'a'.repeat(63)} b`;
    const decoded = decodeExtendedHandshake(encodeBencode({ m: {}, v }));
    expect(decoded.v).toBe('a'.repeat(63));
    expect(decodeExtendedHandshake(encodeExtendedHandshake(decoded))).toEqual(decoded);
  });

  fuzzIt(
    'round-trips: decode(encode(h)) is h, and re-encoding gives the same bytes',
    fc.property(arbHandshake, (handshake) => {
      const bytes = encodeExtendedHandshake(handshake);
      const decoded = decodeExtendedHandshake(bytes);
      expect(decoded).toEqual(handshake);
      expect(hex(encodeExtendedHandshake(decoded))).toBe(hex(bytes));
    }),
  );

  fuzzIt(
    'anything accepted is a fixpoint: encode(decode(x)) decodes to decode(x), bytes stable',
    fc.property(mutatedFrom(arbPayload, 80), (bytes) => {
      let decoded: ExtendedHandshake;
      try {
        decoded = decodeExtendedHandshake(bytes);
      } catch (error) {
        expect(error).toBeInstanceOf(WireProtocolError);
        expect((error as WireProtocolError).code).toBe('bad-extension');
        return;
      }
      const canonical = encodeExtendedHandshake(decoded);
      const again = decodeExtendedHandshake(canonical);
      expect(again).toEqual(decoded);
      expect(hex(encodeExtendedHandshake(again))).toBe(hex(canonical));
    }),
  );
});
