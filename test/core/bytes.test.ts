/**
 * compareUtf8 must order strings exactly as Buffer.compare orders their UTF-8
 * encodings (the order BEP 3 dictionary keys and BEP 52 file trees use),
 * astral characters, the U+E000..U+FFFF range and lone surrogates included.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareUtf8 } from '../../src/core/bytes.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 2000);

/** Strings built from the characters where UTF-16 and UTF-8 order part: ASCII, the private use area, astral, lone surrogates. */
const tricky = fc.string({
  unit: fc.constantFrom(
    'a',
    'b',
    '\u007f',
    '\u00e9',
    '\u{e000}',
    '\u{ffff}',
    '\u{1d11e}',
    '\u{10ffff}',
    '\ud800',
    '\udc00',
    '\udbff',
  ),
  maxLength: 6,
});
const anything = fc.oneof(
  tricky,
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'binary-ascii' }),
);

function byBytes(a: string, b: string): number {
  return Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

describe('compareUtf8', () => {
  it('orders as the UTF-8 bytes order', () => {
    fc.assert(
      fc.property(anything, anything, (a, b) => {
        expect(Math.sign(compareUtf8(a, b))).toBe(byBytes(a, b));
      }),
      { numRuns: runs },
    );
  });

  it('differs from plain string order where UTF-16 misleads', () => {
    // U+E000 sorts before an astral character in UTF-8, after it in UTF-16.
    expect(compareUtf8('\u{e000}', '\u{1d11e}')).toBeLessThan(0);
    expect('\u{e000}' < '\u{1d11e}').toBe(false);
    expect(compareUtf8('ab', 'abc')).toBeLessThan(0);
    expect(compareUtf8('x', 'x')).toBe(0);
  });
});
