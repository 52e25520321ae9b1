import { describe, expect, it } from 'vitest';
import {
  parseCompactPeers4,
  parseCompactPeers6,
  dedupePeers,
} from '../../../src/core/net/compact-peers.ts';
import { parseHostPortText, validatePeer } from '../../../src/core/net/peer-address.ts';

/** 16 address bytes from IPv6 text, through the URL parser (an independent implementation). */
function v6Bytes(text: string): number[] {
  const groups = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const [head, tail] = groups.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const all =
    tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

function entry6(text: string, port: number): number[] {
  return [...v6Bytes(text), port >> 8, port & 0xff];
}

describe('parseHostPortText (--peer, x.pe)', () => {
  it.each([
    ['[::1]:6881', '::1', 6881],
    ['[2001:DB8::0:1]:51413', '2001:db8::1', 51413],
    ['[::ffff:10.0.0.2]:80', '10.0.0.2', 80],
    ['[fd00::2]:1', 'fd00::2', 1],
    ['10.0.0.2:6881', '10.0.0.2', 6881],
    ['tracker.example:65535', 'tracker.example', 65535],
  ])('reads %s', (text, host, port) => {
    expect(parseHostPortText(text)).toEqual({ ok: true, host, port });
  });

  it.each([
    ['::1:6881', /IPv6 address goes in brackets, e.g. \[::1\]:6881/],
    ['2001:db8::1:51413', /goes in brackets/],
    ['[::1]', /use HOST:PORT or \[IPV6\]:PORT/],
    ['[::1]6881', /use HOST:PORT or \[IPV6\]:PORT/],
    ['::1', /goes in brackets/],
    ['[::1]:0', /port 0 is not 1 to 65535/],
    ['[::1]:65536', /port 65536/],
    ['[fe80::1%eth0]:6881', /scoped IPv6 addresses/],
    ['[fe80::1]:6881', /cannot be dialled/],
    ['[::]:6881', /cannot be dialled/],
    ['[ff02::1]:6881', /cannot be dialled/],
    ['[10.0.0.1]:6881', /is not an IPv6 address/],
    ['[host.example]:6881', /is not an IPv6 address/],
    ['0.0.0.0:6881', /not a usable IPv4 address/],
    ['1.2.3:6881', /not a usable IPv4 address/],
    ['host:port', /use HOST:PORT or \[IPV6\]:PORT/],
    ['', /use HOST:PORT or \[IPV6\]:PORT/],
  ])('refuses %j', (text, reason) => {
    const parsed = parseHostPortText(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.reason).toMatch(reason);
      expect(parsed.reason).not.toContain('\n');
    }
  });
});

describe('compact IPv6 peers (BEP 7, 18 bytes each)', () => {
  it('round-trips addresses through their compact form', () => {
    const hosts = ['2001:db8::1', '::1', 'fd00::2', '2a00:1450:4001:82b::200e', '1:2:3:4:5:6:7:8'];
    const bytes = Uint8Array.from(hosts.flatMap((host, i) => entry6(host, 6881 + i)));
    expect(parseCompactPeers6(bytes)).toEqual(hosts.map((host, i) => ({ host, port: 6881 + i })));
  });

  it.each([1, 17, 19, 35, 37])(
    'reads the complete entries of a %i-byte list and ignores the partial rest',
    (length) => {
      const whole = Uint8Array.from([
        ...entry6('2001:db8::1', 1),
        ...entry6('2001:db8::2', 2),
        ...entry6('2001:db8::3', 3),
      ]);
      const peers = parseCompactPeers6(whole.subarray(0, length));
      expect(peers).toHaveLength(Math.floor(length / 18));
      peers.forEach((peer, i) => expect(peer).toEqual({ host: `2001:db8::${i + 1}`, port: i + 1 }));
    },
  );

  it('turns IPv4-mapped entries into IPv4, so one peer has one key across families', () => {
    const mapped = parseCompactPeers6(Uint8Array.from(entry6('::ffff:192.0.2.7', 6881)));
    const plain = parseCompactPeers4(Uint8Array.from([192, 0, 2, 7, 0x1a, 0xe1]));
    expect(mapped).toEqual([{ host: '192.0.2.7', port: 6881 }]);
    expect(dedupePeers([...plain, ...mapped])).toEqual(plain);
  });

  it('drops link-local, unspecified, multicast and port-0 entries', () => {
    const bytes = Uint8Array.from([
      ...entry6('fe80::1', 6881), // link-local: needs a zone nobody sent
      ...entry6('febf::1', 6881), // still fe80::/10
      ...entry6('::', 6881),
      ...entry6('ff02::1', 6881),
      ...entry6('2001:db8::1', 0),
      ...entry6('fec0::1', 6881), // just outside fe80::/10: kept
    ]);
    expect(parseCompactPeers6(bytes)).toEqual([{ host: 'fec0::1', port: 6881 }]);
  });

  it('refuses scoped and link-local text addresses (dictionary peer lists)', () => {
    expect(validatePeer('fe80::1%eth0', 1)).toBeNull();
    expect(validatePeer('fe80::1', 1)).toBeNull();
    expect(validatePeer('::ffff:127.0.0.1', 1)).toEqual({ host: '127.0.0.1', port: 1 });
  });
});
