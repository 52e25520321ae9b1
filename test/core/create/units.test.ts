import bencode from 'bencode';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCanonical, RawBencode, type EncodeValue } from '../../../src/core/create/encode.ts';
import {
  autoPieceLength,
  resolvePieceLength,
  validatePieceLength,
} from '../../../src/core/create/piece-length.ts';
import { comparePaths, globToRegExp } from '../../../src/core/create/walk.ts';
import { UsageError } from '../../../src/core/errors.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 200);
const KiB = 1024;
const MiB = 1024 * KiB;

describe('piece length', () => {
  it('auto: smallest power of two from 16 KiB to 16 MiB giving at most 2048 pieces', () => {
    expect(autoPieceLength(1)).toBe(16 * KiB);
    expect(autoPieceLength(32 * MiB)).toBe(16 * KiB);
    expect(autoPieceLength(32 * MiB + 1)).toBe(32 * KiB);
    expect(autoPieceLength(1024 * MiB)).toBe(512 * KiB);
    expect(autoPieceLength(4096 * MiB)).toBe(2 * MiB);
    expect(autoPieceLength(1024 * 1024 * MiB)).toBe(16 * MiB);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 45 }), (size) => {
        const p = autoPieceLength(size);
        expect(p & (p - 1)).toBe(0);
        expect(p).toBeGreaterThanOrEqual(16 * KiB);
        expect(p).toBeLessThanOrEqual(16 * MiB);
        if (p < 16 * MiB) expect(Math.ceil(size / p)).toBeLessThanOrEqual(2048);
        if (p > 16 * KiB) expect(Math.ceil(size / (p / 2))).toBeGreaterThan(2048);
      }),
      { numRuns: runs },
    );
  });

  it('explicit: a power of two from 16 KiB to 128 MiB', () => {
    expect(validatePieceLength(16 * KiB)).toBe(16 * KiB);
    expect(validatePieceLength(128 * MiB)).toBe(128 * MiB);
    expect(resolvePieceLength(256 * KiB, 10)).toBe(256 * KiB);
    for (const bad of [0, -16384, 8 * KiB, 256 * MiB, 48 * KiB, 16 * KiB + 0.5, NaN]) {
      expect(() => validatePieceLength(bad)).toThrow(UsageError);
    }
  });
});

describe('globs', () => {
  const matches = (glob: string, path: string): boolean => globToRegExp(glob).test(path);
  it('* stays within one component, ** crosses them, ? is one character', () => {
    expect(matches('*.log', 'a.log')).toBe(true);
    expect(matches('*.log', 'dir/a.log')).toBe(false);
    expect(matches('**/*.log', 'dir/sub/a.log')).toBe(true);
    expect(matches('**/*.log', 'a.log')).toBe(true);
    expect(matches('dir/**', 'dir/sub/a')).toBe(true);
    expect(matches('a?c', 'abc')).toBe(true);
    expect(matches('a?c', 'a/c')).toBe(false);
    expect(matches('a.c', 'abc')).toBe(false);
    expect(matches('(x)+[y]', '(x)+[y]')).toBe(true);
    expect(matches('node_modules', 'node_modules')).toBe(true);
  });
});

describe('path order', () => {
  it('compares components as UTF-8 bytes, a prefix first', () => {
    expect(comparePaths(['a'], ['a', 'b'])).toBeLessThan(0);
    expect(comparePaths(['a', 'z'], ['a.b'])).toBeLessThan(0);
    expect(comparePaths(['B'], ['a'])).toBeLessThan(0);
    expect(comparePaths(['\u{E000}'], ['\u{1D11E}'])).toBeLessThan(0);
    expect(comparePaths(['x'], ['x'])).toBe(0);
  });
});

describe('canonical encoder', () => {
  const arbValue: fc.Arbitrary<EncodeValue> = fc.letrec<{ value: EncodeValue }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
      fc.string({ unit: 'grapheme-ascii' }),
      fc.uint8Array({ maxLength: 20 }),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(fc.string({ unit: 'grapheme-ascii' }), tie('value'), { maxKeys: 4 }),
    ),
  })).value;

  it('matches the bencode package for ASCII keys', () => {
    fc.assert(
      fc.property(arbValue, (value) => {
        expect(Buffer.from(encodeCanonical(value)).equals(Buffer.from(bencode.encode(value)))).toBe(
          true,
        );
      }),
      { numRuns: runs },
    );
  });

  it('writes text keys as it writes the same keys given as bytes, whatever the characters', () => {
    const key = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 4 }),
      fc.string({
        unit: fc.constantFrom('a', '\u{e000}', '\u{1d11e}', '\ud800', '\udc00'),
        maxLength: 3,
      }),
    );
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 6 }), (keys) => {
        const asText = new Map<string | Uint8Array, EncodeValue>(keys.map((k, i) => [k, i]));
        const asBytes = new Map<string | Uint8Array, EncodeValue>(
          keys.map((k, i) => [Buffer.from(k, 'utf8'), i]),
        );
        // Distinct lone surrogates can encode to the same bytes (U+FFFD): both refuse then.
        let text: Buffer | Error;
        let bytes: Buffer | Error;
        try {
          text = Buffer.from(encodeCanonical(asText));
        } catch (error) {
          text = error as Error;
        }
        try {
          bytes = Buffer.from(encodeCanonical(asBytes));
        } catch (error) {
          bytes = error as Error;
        }
        if (text instanceof Error || bytes instanceof Error) {
          expect(String(text)).toMatch(/duplicate/);
          expect(String(bytes)).toMatch(/duplicate/);
        } else expect(text.toString('hex')).toBe(bytes.toString('hex'));
      }),
      { numRuns: runs },
    );
  });

  it('sorts keys as bytes, including byte-string keys, and writes raw values verbatim', () => {
    const tree = new Map<string | Uint8Array, EncodeValue>([
      ['\u{1D11E}', 1],
      ['\u{E000}', 2],
      [new Uint8Array([0x10]), 3],
      [new Uint8Array([0x02]), 4],
    ]);
    const out = Buffer.from(encodeCanonical({ t: tree, r: new RawBencode(Buffer.from('i7e')) }));
    const expected = Buffer.concat([
      Buffer.from('d1:ri7e1:td1:'),
      Buffer.from([0x02]),
      Buffer.from('i4e1:'),
      Buffer.from([0x10]),
      Buffer.from('i3e3:'),
      Buffer.from('\u{E000}'),
      Buffer.from('i2e4:'),
      Buffer.from('\u{1D11E}'),
      Buffer.from('i1eee'),
    ]);
    expect(out.toString('hex')).toBe(expected.toString('hex'));
    expect(() => encodeCanonical(1.5)).toThrow(RangeError);
    expect(() =>
      encodeCanonical(
        new Map<string | Uint8Array, EncodeValue>([
          ['a', 1],
          [new Uint8Array([0x61]), 2],
        ]),
      ),
    ).toThrow(/duplicate/);
  });
});
