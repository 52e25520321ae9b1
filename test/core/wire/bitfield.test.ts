import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BitField } from '../../../src/core/wire/bitfield.ts';
import { WireProtocolError } from '../../../src/core/wire/errors.ts';
import { FUZZ_RUNS } from './arbitraries.ts';

describe('BitField', () => {
  it('maps piece 0 to the high bit of byte 0', () => {
    const field = new BitField(10);
    field.set(0);
    field.set(9);
    expect([...field.toBytes()]).toEqual([0x80, 0x40]);
    expect(field.get(0)).toBe(true);
    expect(field.get(1)).toBe(false);
    expect(field.get(9)).toBe(true);
    expect(field.count()).toBe(2);
  });

  it('keeps the count exact through repeated and clearing sets', () => {
    const field = new BitField(3);
    field.set(1);
    field.set(1);
    expect(field.count()).toBe(1);
    field.set(1, false);
    field.set(1, false);
    expect(field.count()).toBe(0);
    expect(field.hasNone()).toBe(true);
    field.setAll();
    expect(field.hasAll()).toBe(true);
    expect([...field.toBytes()]).toEqual([0xe0]); // spare bits stay zero
  });

  it('parses bytes of exactly the right length', () => {
    const field = BitField.fromBytes(Uint8Array.of(0xff, 0xc0), 10);
    expect(field.count()).toBe(10);
    expect(field.hasAll()).toBe(true);
    expect(() => BitField.fromBytes(Uint8Array.of(0xff), 10)).toThrow(WireProtocolError);
    expect(() => BitField.fromBytes(Uint8Array.of(0xff, 0xc0, 0), 10)).toThrow(WireProtocolError);
  });

  it('rejects spare bits set after the last piece', () => {
    expect(() => BitField.fromBytes(Uint8Array.of(0xff, 0xe0), 10)).toThrow(/spare bits/);
    expect(() => BitField.fromBytes(Uint8Array.of(0x01), 7)).toThrow(WireProtocolError);
    // A multiple of 8 has no spare bits: every value is fine.
    expect(BitField.fromBytes(Uint8Array.of(0xff), 8).hasAll()).toBe(true);
  });

  it('copies the bytes it parses', () => {
    const bytes = Uint8Array.of(0x80);
    const field = BitField.fromBytes(bytes, 1);
    bytes[0] = 0;
    expect(field.get(0)).toBe(true);
  });

  it('treats out-of-range reads as absent and refuses out-of-range writes', () => {
    const field = BitField.full(5);
    expect(field.get(5)).toBe(false);
    expect(field.get(-1)).toBe(false);
    expect(field.get(1.5)).toBe(false);
    expect(() => field.set(5)).toThrow(RangeError);
  });

  it('round-trips and counts like a naive reference', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 200 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.array(fc.boolean(), { minLength: n, maxLength: n })),
          ),
        ([n, bits]) => {
          const field = new BitField(n);
          bits.forEach((b, i) => field.set(i, b));
          const parsed = BitField.fromBytes(field.toBytes(), n);
          expect(parsed.count()).toBe(bits.filter(Boolean).length);
          expect(bits.map((_, i) => parsed.get(i))).toEqual(bits);
          expect(parsed.hasAll()).toBe(bits.every(Boolean));
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});
