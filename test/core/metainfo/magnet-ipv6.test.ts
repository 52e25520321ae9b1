/** Magnet `x.pe` peers with IPv6 addresses (BEP 9 peer addresses, `[v6]:port`). */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.ts';
import { parseMagnet } from '../../../src/core/metainfo/index.ts';

const base = 'magnet:?xt=urn:btih:c9a337562cb0360fd6f5ab40fd2b1b81d5325dbd';

describe('magnet x.pe with IPv6 peers', () => {
  it.each([
    ['[::1]:6881', '::1', 6881],
    ['%5B::1%5D:6881', '::1', 6881],
    ['%5B2001%3ADB8%3A0%3A0%3A0%3A0%3A0%3A7%5D%3A51413', '2001:db8::7', 51413],
    ['[::ffff:192.0.2.1]:80', '192.0.2.1', 80],
  ])('reads x.pe=%s', (text, host, port) => {
    expect(parseMagnet(`${base}&x.pe=${text}`).peers).toEqual([{ host, port }]);
  });

  it('keeps both families in the order given', () => {
    const link = parseMagnet(`${base}&x.pe=127.0.0.1:1&x.pe=[::1]:2&x.pe.1=[fd00::2]:3`);
    expect(link.peers).toEqual([
      { host: '127.0.0.1', port: 1 },
      { host: '::1', port: 2 },
      { host: 'fd00::2', port: 3 },
    ]);
  });

  it.each([
    ['::1:6881', /goes in brackets/],
    ['[fe80::1%25eth0]:6881', /scoped IPv6/],
    ['[fe80::1]:6881', /cannot be dialled/],
    ['[::]:6881', /cannot be dialled/],
    ['[::1]:0', /port 0/],
    ['[nonsense]:1', /not an IPv6 address/],
  ])('refuses x.pe=%s with a one-line reason', (text, reason) => {
    const parse = () => parseMagnet(`${base}&x.pe=${text}`);
    expect(parse).toThrow(InputError);
    expect(parse).toThrow(reason);
    expect(parse).toThrow(/^invalid magnet link: x.pe '[^\n]*$/);
  });
});
