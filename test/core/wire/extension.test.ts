import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeExtendedHandshake,
  encodeExtendedHandshake,
  formatIp,
} from '../../../src/core/wire/extension.ts';
import { WireProtocolError } from '../../../src/core/wire/errors.ts';
import { FUZZ_RUNS } from './arbitraries.ts';

const text = (s: string) => new TextEncoder().encode(s);

describe('extended handshake', () => {
  it('encodes a sorted bencoded dictionary', () => {
    const bytes = encodeExtendedHandshake({
      m: { ut_pex: 2, ut_metadata: 1 },
      v: 'shoal 0.1.0',
      p: 6881,
      reqq: 250,
      metadataSize: 31235,
      yourIp: Uint8Array.of(127, 0, 0, 1),
    });
    expect(Buffer.from(bytes).toString('latin1')).toBe(
      'd1:md11:ut_metadatai1e6:ut_pexi2ee13:metadata_sizei31235e1:pi6881e4:reqqi250e' +
        '1:v11:shoal 0.1.06:yourip4:\x7f\x00\x00\x01e',
    );
  });

  it('round-trips every field', () => {
    const decoded = decodeExtendedHandshake(
      encodeExtendedHandshake({
        m: new Map([
          ['ut_metadata', 3],
          ['lt_donthave', 0],
        ]),
        v: 'qBittorrent/4.6.3',
        p: 51413,
        reqq: 500,
        metadataSize: 12345,
        yourIp: new Uint8Array(16).fill(1),
        ipv4: Uint8Array.of(10, 0, 0, 2),
        uploadOnly: true,
      }),
    );
    expect(decoded).toEqual({
      m: new Map([
        ['lt_donthave', 0],
        ['ut_metadata', 3],
      ]),
      v: 'qBittorrent/4.6.3',
      p: 51413,
      reqq: 500,
      metadataSize: 12345,
      yourIp: new Uint8Array(16).fill(1),
      ipv4: Uint8Array.of(10, 0, 0, 2),
      uploadOnly: true,
    });
  });

  it('ignores fields of the wrong type or range instead of failing', () => {
    const decoded = decodeExtendedHandshake(
      text(
        'd1:md11:ut_metadata3:abc6:ut_pexi300e5:lt_tci7ee1:pi70000e4:reqq1:x1:vi5e6:yourip3:abce',
      ),
    );
    expect(decoded).toEqual({ m: new Map([['lt_tc', 7]]) });
    expect(decodeExtendedHandshake(text('d1:mli1eee'))).toEqual({ m: new Map() });
  });

  it('makes the client name safe for a terminal', () => {
    const decoded = decodeExtendedHandshake(
      encodeExtendedHandshake({ m: {}, v: 'evil\x1b[2J\x07client\u202e\u0085' }),
    );
    expect(decoded.v).toBe('evil[2Jclient');
  });

  it('rejects non-dictionaries, malformed bencode, deep nesting and oversized payloads', () => {
    const bad = ['li1ee', 'd1:m', 'i5e', 'd1:x' + 'l'.repeat(9) + 'e'.repeat(9) + 'e'];
    for (const input of bad) {
      expect(() => decodeExtendedHandshake(text(input)), input).toThrow(WireProtocolError);
    }
    // A "__proto__" key must never smuggle fields in through the prototype.
    try {
      expect(decodeExtendedHandshake(text('d8:__proto__d1:pi1eee')).p).toBeUndefined();
    } catch (error) {
      expect(error).toBeInstanceOf(WireProtocolError);
    }
    // Depth 8 in all (the outer dictionary counts) is still fine.
    expect(decodeExtendedHandshake(text('d1:x' + 'l'.repeat(7) + 'e'.repeat(7) + 'e')).m.size).toBe(
      0,
    );
    const big = new Uint8Array(64 * 1024 + 1);
    expect(() => decodeExtendedHandshake(big)).toThrow(/limit/);
  });

  it('survives a million nested lists without recursing', () => {
    const deep = text('l'.repeat(1_000_000));
    expect(() => decodeExtendedHandshake(deep, { maxBytes: 2_000_000 })).toThrow(WireProtocolError);
  });

  it('random bytes only ever produce WireProtocolError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc
            .array(fc.constantFrom(...'dlie0123456789:mpv'.split('')), { maxLength: 60 })
            .map((c) => text(c.join(''))),
        ),
        (bytes) => {
          try {
            const h = decodeExtendedHandshake(bytes);
            expect(h.m).toBeInstanceOf(Map);
          } catch (error) {
            if (!(error instanceof WireProtocolError)) throw error;
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('formats addresses', () => {
    expect(formatIp(Uint8Array.of(192, 168, 1, 20))).toBe('192.168.1.20');
    const v6 = new Uint8Array(16);
    v6[0] = 0x20;
    v6[1] = 0x01;
    v6[2] = 0x0d;
    v6[3] = 0xb8;
    v6[15] = 1;
    expect(formatIp(v6)).toBe('2001:db8::1');
    expect(formatIp(new Uint8Array(16))).toBe('::');
  });
});
