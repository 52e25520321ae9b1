import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BencodeError, decodeBencode, encodeBencode } from '../../../src/core/bencode/index.ts';
import { numRuns as runs } from '../../helpers/fuzz.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('decodeBencode', () => {
  it('decodes every value type, keeping byte strings as bytes', () => {
    const { value } = decodeBencode(text('d3:agei42e4:listli-1e0:e4:name5:shoale'));
    expect(value).toEqual({ age: 42, list: [-1, new Uint8Array(0)], name: text('shoal') });
  });

  it('locates the exact byte range of each top-level value', () => {
    const bytes = text('d8:announce3:url4:infod4:name1:xee');
    const { topLevelRanges } = decodeBencode(bytes);
    const [start, end] = topLevelRanges.get('info')!;
    expect(Buffer.from(bytes.subarray(start, end)).toString()).toBe('d4:name1:xe');
  });

  it.each([
    ['i01e', 'leading zero'],
    ['i-0e', 'negative zero'],
    ['ie', 'malformed integer'],
    ['i1.5e', 'malformed integer'],
    ['i99999999999999999e', 'out of range'],
    ['5:abc', 'runs past the end'],
    ['03:abc', 'leading zero'],
    ['d1:ai1e1:ai2ee', 'duplicate'],
    ['di1ei2ee', 'key is not a string'],
    ['d1:ae', 'key without a value'],
    ['l', 'unexpected end'],
    ['e', 'unexpected end marker'],
    ['x', 'unexpected byte'],
    ['i1ei2e', 'trailing data'],
    ['d9:__proto__de', 'forbidden'],
  ])('rejects %s (%s)', (input, message) => {
    expect(() => decodeBencode(text(input))).toThrowError(new RegExp(message));
  });

  it('refuses nesting past the depth limit without recursing', () => {
    const deep = text('l'.repeat(100_000) + 'e'.repeat(100_000));
    expect(() => decodeBencode(deep)).toThrowError(/nesting deeper than 64/);
    expect(() => decodeBencode(text('llee'), { limits: { maxDepth: 1, maxTokens: 10 } })).toThrow(
      BencodeError,
    );
  });

  it('refuses more tokens than the limit', () => {
    expect(() =>
      decodeBencode(text('li1ei2ei3ee'), { limits: { maxDepth: 4, maxTokens: 3 } }),
    ).toThrowError(/tokens/);
  });

  it('refuses more strings, lists and dictionaries than the input size allows', () => {
    const limits = { maxDepth: 4, maxTokens: 1000, freeValues: 2, bytesPerValue: 8 };
    // 'l' + 0: x4 + 'e' = 10 bytes: 2 free + 1 per 8 bytes = 3 values; this is 5.
    expect(() => decodeBencode(text('l0:0:0:0:e'), { limits })).toThrowError(
      /too many values for its size/,
    );
    // Keys and integers are not counted: they cost no object of their own.
    expect(decodeBencode(text('d1:ai1e1:bi2ee'), { limits }).value).toEqual({ a: 1, b: 2 });
    // The default allowance: millions of empty strings in a few megabytes are refused.
    const junk = text('l' + '0:'.repeat(2_000_000) + 'e');
    expect(() => decodeBencode(junk)).toThrowError(/too many values for its size/);
  });

  it('keys that are not UTF-8 become hex; decoded bytes do not follow the input', () => {
    const bytes = Uint8Array.from([...text('d2:'), 0xff, 0xfe, ...text('3:abce')]);
    const { value } = decodeBencode(bytes);
    expect(value).toEqual({ fffe: text('abc') });
    bytes[bytes.length - 2] = 0x7a; // the input buffer is reused by its owner
    expect(value).toEqual({ fffe: text('abc') });
  });

  it('accepts trailing data only when asked', () => {
    const { end } = decodeBencode(text('d1:ai1eeRAW'), { allowTrailing: true });
    expect(end).toBe(8);
  });

  it('round-trips what the encoder writes', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.integer({ min: -1e12, max: 1e12 }),
        fc.uint8Array({ maxLength: 20 }),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '__proto__'),
          tie('node'),
          { maxKeys: 4 },
        ),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeBencode(v);
        expect(decodeBencode(bytes).value).toEqual(v);
      }),
      { numRuns: runs },
    );
  });

  it('throws only BencodeError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeBencode(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(BencodeError);
        }
      }),
      { numRuns: runs * 10 },
    );
  });

  it('throws only BencodeError on mutated valid documents', () => {
    const base = text(
      'd4:infod6:lengthi5e4:name3:abc12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee',
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), {
          maxLength: 4,
        }),
        (edits) => {
          const bytes = Uint8Array.from(base);
          for (const [at, byte] of edits) bytes[at] = byte;
          try {
            decodeBencode(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(BencodeError);
          }
        },
      ),
      { numRuns: runs * 10 },
    );
  });
});
