import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.ts';
import {
  parseInfoHashOrMagnet,
  parseMagnet,
  toHex,
  toMagnet,
} from '../../../src/core/metainfo/index.ts';
import { numRuns as runs } from '../../helpers/fuzz.ts';

const v1Hex = 'c9a337562cb0360fd6f5ab40fd2b1b81d5325dbd';
const v2Hex = 'caf1e1c30e81cb361b9ee167c4aa64228a7fa4fa9f6105232b28ad099f3a302e';

function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

function expectInputError(action: () => unknown, message: RegExp): void {
  expect(action).toThrow(InputError);
  expect(action).toThrow(message);
}

describe('parseMagnet', () => {
  it('reads every supported parameter', () => {
    const link = parseMagnet(
      `magnet:?xt=urn:btih:${v1Hex.toUpperCase()}&xt=urn:btmh:1220${v2Hex}&dn=My+File%20%C3%A9` +
        '&tr=http%3A%2F%2Ft1%2Fannounce&tr=udp://t2:80&tr.1=udp://t2:80&ws=http://seed/' +
        '&x.pe=10.0.0.1:6881&x.pe=[2001:db8::1]:51413&x.pe=host.example:1&so=0,2,4-6&xl=123',
    );
    expect(toHex(link.infoHash!)).toBe(v1Hex);
    expect(toHex(link.infoHashV2!)).toBe(v2Hex);
    expect(link.name).toBe('My File é');
    expect(link.trackers).toEqual([['http://t1/announce'], ['udp://t2:80']]);
    expect(link.webSeeds).toEqual(['http://seed/']);
    expect(link.peers).toEqual([
      { host: '10.0.0.1', port: 6881 },
      { host: '2001:db8::1', port: 51413 },
      { host: 'host.example', port: 1 },
    ]);
    expect(link.selectOnly).toEqual([0, 2, 4, 5, 6]);
  });

  it('accepts a base32 btih and a v2-only magnet', () => {
    const bytes = Buffer.from(v1Hex, 'hex');
    expect(toHex(parseMagnet(`magnet:?xt=urn:btih:${base32(bytes)}`).infoHash!)).toBe(v1Hex);
    const v2 = parseMagnet(`magnet:?xt=urn:btmh:1220${v2Hex}`);
    expect(v2.infoHash).toBeNull();
    expect(toHex(v2.infoHashV2!)).toBe(v2Hex);
  });

  it.each([
    ['http://example.com', /does not start with 'magnet:\?'/],
    ['magnet:?dn=x', /no xt=urn:btih: or xt=urn:btmh:/],
    ['magnet:?xt=urn:btih:1234', /40 hex or 32 base32/],
    [`magnet:?xt=urn:btmh:1114${v2Hex}`, /1220 followed by 64 hex/],
    [`magnet:?xt=urn:btih:${v1Hex}&xt=urn:btih:${'0'.repeat(40)}`, /two different info-hashes/],
    [`magnet:?xt=urn:btih:${v1Hex}&dn=%E0%A4%A`, /bad percent-encoding/],
    [`magnet:?xt=urn:btih:${v1Hex}&x.pe=1.2.3.4`, /x.pe '1.2.3.4' is not host:port/],
    [`magnet:?xt=urn:btih:${v1Hex}&x.pe=1.2.3.4:70000`, /not host:port/],
    [`magnet:?xt=urn:btih:${v1Hex}&so=1,a`, /not a list of file indexes/],
    [`magnet:?xt=urn:btih:${v1Hex}&so=5-2`, /backwards/],
    [`magnet:?xt=urn:btih:${v1Hex}&so=0-999999999`, /more than 1000000/],
  ])('refuses %s', (uri, message) => {
    expectInputError(() => parseMagnet(uri), message);
  });
});

describe('parseInfoHashOrMagnet', () => {
  it('accepts bare v1 (hex, base32) and v2 hashes, and magnets', () => {
    expect(toHex(parseInfoHashOrMagnet(` ${v1Hex} `).infoHash!)).toBe(v1Hex);
    const b32 = base32(Buffer.from(v1Hex, 'hex')).toLowerCase();
    expect(toHex(parseInfoHashOrMagnet(b32).infoHash!)).toBe(v1Hex);
    const v2 = parseInfoHashOrMagnet(v2Hex.toUpperCase());
    expect(v2.infoHash).toBeNull();
    expect(toHex(v2.infoHashV2!)).toBe(v2Hex);
    expect(toHex(parseInfoHashOrMagnet(`magnet:?xt=urn:btih:${v1Hex}`).infoHash!)).toBe(v1Hex);
  });

  it.each(['', 'xyz', v1Hex.slice(1), `${v2Hex}0`, 'magnet:?dn=x'])('refuses %j', (input) => {
    expect(() => parseInfoHashOrMagnet(input)).toThrow(InputError);
  });
});

describe('toMagnet', () => {
  it('writes btih and btmh for a hybrid, percent-encoding the rest', () => {
    const magnet = toMagnet({
      infoHash: Buffer.from(v1Hex, 'hex'),
      infoHashV2: Buffer.from(v2Hex, 'hex'),
      name: 'a b&c=d+é',
      trackers: [['http://t/a?x=1&y=2', 'udp://u:1'], ['http://t/a?x=1&y=2']],
      webSeeds: ['http://seed/dir/'],
    });
    expect(magnet).toBe(
      `magnet:?xt=urn:btih:${v1Hex}&xt=urn:btmh:1220${v2Hex}&dn=a%20b%26c%3Dd%2B%C3%A9` +
        '&tr=http%3A%2F%2Ft%2Fa%3Fx%3D1%26y%3D2&tr=udp%3A%2F%2Fu%3A1&ws=http%3A%2F%2Fseed%2Fdir%2F',
    );
  });

  it('refuses to build a magnet without a hash', () => {
    expect(() => toMagnet({ infoHash: null, infoHashV2: null })).toThrow(InputError);
  });

  it('round-trips through parseMagnet', () => {
    const url = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() === s),
    );
    fc.assert(
      fc.property(
        fc.option(fc.uint8Array({ minLength: 20, maxLength: 20 }), { nil: null }),
        fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: null }),
        fc.option(fc.string({ unit: 'grapheme', maxLength: 30 }), { nil: null }),
        fc.uniqueArray(url, { maxLength: 5 }),
        fc.uniqueArray(url, { maxLength: 3 }),
        (infoHash, infoHashV2, name, trackers, webSeeds) => {
          fc.pre(infoHash !== null || infoHashV2 !== null);
          const source = {
            infoHash,
            infoHashV2,
            name: name === '' ? null : name,
            trackers: trackers.filter((t) => t !== '').map((t) => [t]),
            webSeeds: webSeeds.filter((w) => w !== ''),
          };
          const link = parseMagnet(toMagnet(source));
          expect(link.infoHash ? toHex(link.infoHash) : null).toBe(
            infoHash ? toHex(infoHash) : null,
          );
          expect(link.infoHashV2 ? toHex(link.infoHashV2) : null).toBe(
            infoHashV2 ? toHex(infoHashV2) : null,
          );
          expect(link.name).toBe(source.name);
          expect(link.trackers).toEqual(source.trackers);
          expect(link.webSeeds).toEqual(source.webSeeds);
        },
      ),
      { numRuns: runs },
    );
  });

  it('parseMagnet never throws anything but InputError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (tail) => {
        for (const uri of [`magnet:?${tail}`, `magnet:?xt=urn:btih:${v1Hex}&${tail}`, tail]) {
          try {
            parseInfoHashOrMagnet(uri);
          } catch (error) {
            if (!(error instanceof InputError)) throw error;
          }
        }
      }),
      { numRuns: runs },
    );
  });
});
