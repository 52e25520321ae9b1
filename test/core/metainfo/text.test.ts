/**
 * Name and text decoding: the fast paths (plain ASCII, short byte strings)
 * must give exactly what the general decoders give.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeName, isValidUtf8, latin1Text } from '../../../src/core/metainfo/text.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 500);
const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The definition decodeName must match: valid UTF-8 as is, else U+FFFD replaced by '_'. */
function expectedName(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).replace(/\uFFFD/g, '_');
  }
}

describe('decodeName', () => {
  it('decodes ASCII, UTF-8 and broken bytes as the general decoder does', () => {
    expect(decodeName(Buffer.from('plain.txt'))).toBe('plain.txt');
    expect(decodeName(Buffer.from('Übung – 日本.mkv'))).toBe('Übung – 日本.mkv');
    expect(decodeName(Uint8Array.of(0x61, 0xff, 0x62))).toBe('a_b');
    // A byte order mark is part of the name, not dropped.
    expect(decodeName(Buffer.from('\uFEFFname'))).toBe('\uFEFFname');
    expect(decodeName(new Uint8Array(0))).toBe('');
    expect(decodeName(Uint8Array.of(0x7f))).toBe('\x7f');
    expect(decodeName(Uint8Array.of(0x80))).toBe('_');
  });

  it('agrees with the general decoder on any bytes', () => {
    const anyBytes = fc.oneof(
      fc.uint8Array({ maxLength: 2000 }),
      // Few distinct bytes around the ASCII and UTF-8 boundaries, so runs of them are common.
      fc
        .array(fc.constantFrom(0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0xff), {
          maxLength: 40,
        })
        .map((values) => Uint8Array.from(values)),
      // Valid UTF-8 of every kind of character, including astral ones.
      fc
        .string({ unit: 'binary', maxLength: 300 })
        .map((text) => new Uint8Array(Buffer.from(text))),
    );
    fc.assert(
      fc.property(anyBytes, (bytes) => {
        expect(decodeName(bytes)).toBe(expectedName(bytes));
        let valid = true;
        try {
          strict.decode(bytes);
        } catch {
          valid = false;
        }
        expect(isValidUtf8(bytes)).toBe(valid);
      }),
      { numRuns: runs },
    );
  });
});

describe('latin1Text', () => {
  it('maps each byte to one character, short or long', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        expect(latin1Text(bytes)).toBe(Buffer.from(bytes).toString('latin1'));
      }),
      { numRuns: runs },
    );
  });
});
