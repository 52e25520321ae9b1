/** The BEP 10 handshake's address fields with IPv6: `ipv6` (16 bytes), `yourip` (4 or 16). */
import { describe, expect, it } from 'vitest';
import { encodeBencode } from '../../../src/core/bencode/index.ts';
import {
  decodeExtendedHandshake,
  encodeExtendedHandshake,
  formatIp,
} from '../../../src/core/wire/extension.ts';

const loopback6 = Uint8Array.from([...Array<number>(15).fill(0), 1]);
const doc6 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...Array<number>(11).fill(0), 7]);

describe('extended handshake address fields over IPv6', () => {
  it('round-trips our IPv6 address and the peer-seen one', () => {
    const payload = encodeExtendedHandshake({
      m: { ut_pex: 1 },
      p: 6881,
      ipv6: doc6,
      yourIp: loopback6,
    });
    const text = Buffer.from(payload).toString('latin1');
    expect(text).toContain(`4:ipv616:${Buffer.from(doc6).toString('latin1')}`);
    expect(text).toContain(`6:yourip16:${Buffer.from(loopback6).toString('latin1')}`);
    const decoded = decodeExtendedHandshake(payload);
    expect(formatIp(decoded.ipv6!)).toBe('2001:db8::7');
    expect(formatIp(decoded.yourIp!)).toBe('::1');
    expect(decoded.p).toBe(6881);
  });

  it('ignores address fields of the wrong size or type, keeps the rest', () => {
    const payload = encodeBencode({
      m: { ut_pex: 1 },
      ipv6: Uint8Array.from([127, 0, 0, 1]),
      ipv4: doc6,
      yourip: new Uint8Array(18),
      p: 6881,
    });
    const decoded = decodeExtendedHandshake(payload);
    expect(decoded.ipv6).toBeUndefined();
    expect(decoded.ipv4).toBeUndefined();
    expect(decoded.yourIp).toBeUndefined();
    expect(decoded.p).toBe(6881);
    expect(decodeExtendedHandshake(encodeBencode({ m: {}, ipv6: 6 })).ipv6).toBeUndefined();
  });

  it('refuses to send an IPv6 field that is not 16 bytes (a caller bug)', () => {
    expect(() => encodeExtendedHandshake({ m: {}, ipv6: Uint8Array.from([1, 2, 3, 4]) })).toThrow(
      RangeError,
    );
    expect(() => formatIp(new Uint8Array(18))).toThrow(RangeError);
  });
});
