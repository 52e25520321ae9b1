import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  HANDSHAKE_LENGTH,
  decodeHandshake,
  encodeHandshake,
  makeReserved,
  parseReserved,
  supportsDht,
  supportsExtensionProtocol,
  supportsFastExtension,
  supportsV2Upgrade,
} from '../../../src/core/wire/handshake.ts';
import { FUZZ_RUNS, concat } from './arbitraries.ts';

const infoHash = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const peerId = new TextEncoder().encode('-SH0100-abcdefghijkl');

describe('handshake', () => {
  it('encodes the 68-byte BEP 3 layout', () => {
    const reserved = makeReserved({ extensionProtocol: true, fastExtension: true });
    const bytes = encodeHandshake({ reserved, infoHash, peerId });
    expect(bytes.length).toBe(68);
    expect(bytes[0]).toBe(19);
    expect(Buffer.from(bytes.subarray(1, 20)).toString('latin1')).toBe('BitTorrent protocol');
    expect([...bytes.subarray(20, 28)]).toEqual([0, 0, 0, 0, 0, 0x10, 0, 0x04]);
    expect(bytes.subarray(28, 48)).toEqual(infoHash);
    expect(bytes.subarray(48, 68)).toEqual(peerId);
  });

  it('round-trips and returns the bytes after it as rest', () => {
    const reserved = makeReserved({ dht: true });
    const wire = concat([
      encodeHandshake({ reserved, infoHash, peerId }),
      Uint8Array.of(0, 0, 0, 1, 2),
    ]);
    const result = decodeHandshake(wire);
    expect(result.status).toBe('ok');
    if (result.status !== 'ok') return;
    expect(result.handshake.reserved).toEqual(reserved);
    expect(result.handshake.infoHash).toEqual(infoHash);
    expect(result.handshake.peerId).toEqual(peerId);
    expect([...result.rest]).toEqual([0, 0, 0, 1, 2]);
  });

  it('asks for more bytes on every proper prefix, exposing the info-hash from byte 48', () => {
    const full = encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId });
    for (let n = 0; n < HANDSHAKE_LENGTH; n++) {
      const result = decodeHandshake(full.subarray(0, n));
      expect(result.status).toBe('need-more');
      if (result.status !== 'need-more') return;
      expect(result.missing).toBe(HANDSHAKE_LENGTH - n);
      if (n >= 48) expect(result.infoHash).toEqual(infoHash);
      else expect(result.infoHash).toBeUndefined();
    }
  });

  it('rejects a wrong pstrlen from the first byte', () => {
    const result = decodeHandshake(Uint8Array.of(18));
    expect(result.status).toBe('invalid');
  });

  it('rejects a wrong protocol string as soon as it diverges', () => {
    const bad = new Uint8Array([19, ...new TextEncoder().encode('BitTorrent protocoX')]);
    expect(decodeHandshake(bad.subarray(0, 5)).status).toBe('need-more');
    expect(decodeHandshake(bad).status).toBe('invalid');
    const full = encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId });
    full[7] ^= 0x20; // 'r' -> 'R'
    expect(decodeHandshake(full).status).toBe('invalid');
  });

  it('accepts exactly the handshakes it is given, field for field, whatever follows', () => {
    // Generated real handshakes (random reserved bits, hash, peer id and trailing bytes), so the
    // accepting branch runs on every input: random bytes alone almost never start with one.
    const field = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
    fc.assert(
      fc.property(field(8), field(20), field(20), fc.uint8Array({ maxLength: 40 }), (...parts) => {
        const [reserved, hash, id, after] = parts;
        const wire = concat([encodeHandshake({ reserved, infoHash: hash, peerId: id }), after]);
        const result = decodeHandshake(wire);
        expect(result.status).toBe('ok');
        if (result.status !== 'ok') return;
        expect(result.handshake).toEqual({ reserved, infoHash: hash, peerId: id });
        expect(result.rest).toEqual(after);
        // Accepted means it re-encodes to the bytes that were read.
        expect(encodeHandshake(result.handshake)).toEqual(wire.subarray(0, HANDSHAKE_LENGTH));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('refuses any change to the 20-byte header, and never throws on random bytes', () => {
    const valid = encodeHandshake({ reserved: new Uint8Array(8), infoHash, peerId });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 19 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const bytes = Uint8Array.from(valid);
        bytes[at] ^= flip;
        expect(decodeHandshake(bytes).status).toBe('invalid');
      }),
      { numRuns: FUZZ_RUNS },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const result = decodeHandshake(bytes);
        const header = valid.subarray(0, Math.min(bytes.length, 20));
        const headerMatches = bytes.subarray(0, header.length).every((b, i) => b === header[i]);
        if (!headerMatches) expect(result.status).toBe('invalid');
        else expect(result.status).toBe(bytes.length >= HANDSHAKE_LENGTH ? 'ok' : 'need-more');
      }),
      { numRuns: FUZZ_RUNS },
    );
  });

  it('reads and writes the reserved bits', () => {
    const r = makeReserved({
      extensionProtocol: true,
      fastExtension: true,
      dht: true,
      v2Upgrade: true,
    });
    expect(r[5]).toBe(0x10);
    expect(r[7]).toBe(0x15);
    expect(parseReserved(r)).toEqual({
      extensionProtocol: true,
      fastExtension: true,
      dht: true,
      v2Upgrade: true,
    });
    const none = new Uint8Array(8).fill(0xff);
    none[5] = 0xef;
    none[7] = 0xea;
    expect(supportsExtensionProtocol(none)).toBe(false);
    expect(supportsFastExtension(none)).toBe(false);
    expect(supportsDht(none)).toBe(false);
    expect(supportsV2Upgrade(none)).toBe(false);
    // libtorrent 2.0.8 dialling a hybrid torrent sets 0x10 in reserved[7].
    expect(supportsV2Upgrade(Uint8Array.of(0, 0, 0, 0, 0, 0x10, 0, 0x15))).toBe(true);
  });

  it('refuses to encode fields of the wrong length', () => {
    expect(() => encodeHandshake({ reserved: new Uint8Array(7), infoHash, peerId })).toThrow(
      RangeError,
    );
  });
});
