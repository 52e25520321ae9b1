import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeLsdAnnounce,
  MAX_LSD_INFOHASHES,
  parseLsdAnnounce,
} from '../../../src/core/discovery/lsd-codec.ts';
import { fuzzOptions, fuzzTimeout } from '../../helpers/fuzz.ts';

const hash = 'ab'.repeat(20);
const text = (body: string) => Buffer.from(body, 'latin1');

describe('BEP 14 announce codec', () => {
  it('encodes what libtorrent sends and reads it back', () => {
    const message = encodeLsdAnnounce({ port: 6881, infoHashes: [hash], cookie: 'c00k1e' });
    expect(message.toString('latin1')).toBe(
      `BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: ${hash}\r\ncookie: c00k1e\r\n\r\n\r\n`,
    );
    expect(parseLsdAnnounce(message)).toEqual({ port: 6881, infoHashes: [hash], cookie: 'c00k1e' });
    const v6 = encodeLsdAnnounce({ port: 1, infoHashes: [hash], cookie: 'x', ipv6: true });
    expect(v6.toString('latin1')).toContain('Host: [ff15::efc0:988f]:6771\r\n');
  });

  it('accepts upper-case hashes, several hashes, any header case, bare LF and no cookie', () => {
    const upper = hash.toUpperCase();
    const other = 'cd'.repeat(20);
    expect(
      parseLsdAnnounce(
        text(
          `BT-SEARCH * HTTP/1.1\nHOST: x\nport:  6000 \ninfohash: ${upper}\nInfohash: ${other}\nInfohash: ${hash}\n\n`,
        ),
      ),
    ).toEqual({ port: 6000, infoHashes: [hash, other], cookie: null });
  });

  it.each([
    ['empty', ''],
    ['another protocol', `M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${hash}\r\n\r\n`],
    ['no port', `BT-SEARCH * HTTP/1.1\r\nInfohash: ${hash}\r\n\r\n`],
    ['port 0', `BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: ${hash}\r\n\r\n`],
    ['port 65536', `BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: ${hash}\r\n\r\n`],
    ['port text', `BT-SEARCH * HTTP/1.1\r\nPort: 6881x\r\nInfohash: ${hash}\r\n\r\n`],
    ['two ports', `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nPort: 2\r\nInfohash: ${hash}\r\n\r\n`],
    ['no hash', `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n`],
    ['short hash', `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${hash.slice(2)}\r\n\r\n`],
    ['base32 hash', `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${'a'.repeat(32)}\r\n\r\n`],
    [
      'a line that is no header',
      `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${hash}\r\ngarbage\r\n\r\n`,
    ],
    [
      'a long cookie',
      `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${hash}\r\ncookie: ${'c'.repeat(65)}\r\n`,
    ],
    [
      'too many lines',
      `BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: ${hash}\r\n${'\r\n'.repeat(50)}`,
    ],
  ])('refuses %s', (_why, body) => {
    expect(parseLsdAnnounce(text(body))).toBeNull();
  });

  it('refuses datagrams over 1400 bytes and more hashes than fit', () => {
    const hashes = Array.from({ length: MAX_LSD_INFOHASHES + 1 }, (_, i) =>
      i.toString(16).padStart(40, '0'),
    );
    const many = encodeLsdAnnounce({ port: 1, infoHashes: hashes, cookie: 'x' });
    expect(many.length).toBeLessThanOrEqual(1400);
    expect(parseLsdAnnounce(many)).toBeNull();
    const padded = Buffer.concat([
      encodeLsdAnnounce({ port: 1, infoHashes: [hash], cookie: 'x' }),
      Buffer.alloc(1400),
    ]);
    expect(parseLsdAnnounce(padded)).toBeNull();
  });

  it(
    'never throws and only returns well-formed announces, whatever the bytes',
    () => {
      const valid = encodeLsdAnnounce({ port: 6881, infoHashes: [hash], cookie: 'x' });
      // Random bytes, and valid announces with bytes flipped, cut or appended.
      const datagrams = fc.oneof(
        fc.uint8Array({ maxLength: 2000 }),
        fc
          .tuple(
            fc.nat({ max: valid.length }),
            fc.uint8Array({ maxLength: 64 }),
            fc.nat({ max: valid.length }),
          )
          .map(([at, bytes, cut]) =>
            Buffer.concat([valid.subarray(0, at), bytes, valid.subarray(Math.max(at, cut))]),
          ),
      );
      fc.assert(
        fc.property(datagrams, (bytes) => {
          const parsed = parseLsdAnnounce(bytes);
          if (parsed === null) return;
          expect(Number.isInteger(parsed.port)).toBe(true);
          expect(parsed.port).toBeGreaterThanOrEqual(1);
          expect(parsed.port).toBeLessThanOrEqual(65535);
          expect(parsed.infoHashes.length).toBeGreaterThan(0);
          for (const h of parsed.infoHashes) expect(h).toMatch(/^[0-9a-f]{40}$/);
        }),
        fuzzOptions(),
      );
    },
    fuzzTimeout,
  );
});
