/**
 * The address fields of our extended handshake (BEP 10): `yourip` is the
 * peer's address as we see it, `ipv6` our global IPv6 address when we listen;
 * and a peer's `ipv6` becomes another address to reach it, unless it is
 * unusable, mapped IPv4, of the wrong length, or closer than the peer itself.
 */
import { describe, expect, it } from 'vitest';
import { encodeBencode } from '../../../src/core/bencode/index.ts';
import type { PeerAddress } from '../../../src/core/net/peer-address.ts';
import { PeerExtensions, type ExtensionPeer } from '../../../src/core/session/peer-extensions.ts';
import { decodeExtendedHandshake, formatIp } from '../../../src/core/wire/extension.ts';

function extensions(port: number, ownIpv6?: string): PeerExtensions {
  return new PeerExtensions({
    infoBytes: new Uint8Array(64),
    isPrivate: false,
    clientName: 'test',
    maxRequests: 250,
    port: () => port,
    addPeers: () => {},
    ownIpv6: () => ownIpv6,
  });
}

/** A peer at `address` whose extended handshake held `fields`. */
function peerWith(address: PeerAddress, fields: Record<string, unknown>): ExtensionPeer {
  return {
    key: `${address.host}:${address.port}`,
    address,
    outgoing: true,
    seed: false,
    extended: decodeExtendedHandshake(encodeBencode(new Map(Object.entries({ m: {}, ...fields })))),
    send: () => {},
  };
}

const v6 = (text: string) => {
  const groups = text.split(':').map((g) => parseInt(g, 16));
  return Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
};

describe('our extended handshake', () => {
  it('tells the peer its address as we see it: 4 bytes for IPv4, 16 for IPv6', () => {
    const ours = extensions(6881);
    const to4 = decodeExtendedHandshake(ours.handshake({ host: '203.0.113.7', port: 51413 }));
    expect(formatIp(to4.yourIp!)).toBe('203.0.113.7');
    const to6 = decodeExtendedHandshake(ours.handshake({ host: '2001:db8::7', port: 51413 }));
    expect(to6.yourIp).toHaveLength(16);
    expect(formatIp(to6.yourIp!)).toBe('2001:db8::7');
    expect(decodeExtendedHandshake(ours.handshake()).yourIp).toBeUndefined();
  });

  it('sends our global IPv6 address only when we listen and have one', () => {
    const to = { host: '203.0.113.7', port: 1 };
    const sent = decodeExtendedHandshake(extensions(6881, '2001:db8::1').handshake(to));
    expect(formatIp(sent.ipv6!)).toBe('2001:db8::1');
    expect(decodeExtendedHandshake(extensions(6881).handshake(to)).ipv6).toBeUndefined();
    expect(
      decodeExtendedHandshake(extensions(0, '2001:db8::1').handshake(to)).ipv6,
    ).toBeUndefined();
  });
});

describe("a peer's ipv6", () => {
  const ours = extensions(6881);
  const from = { host: '203.0.113.9', port: 40000 };

  it('is another address of that peer, at its listen port', () => {
    const peer = peerWith(from, { p: 6882, ipv6: v6('2001:db8:0:0:0:0:0:9') });
    expect(ours.listenAddresses(peer)).toEqual([{ host: '2001:db8::9', port: 6882 }]);
  });

  it('is ignored without a listen port, with the wrong length, or when unusable', () => {
    const hostile: Record<string, unknown>[] = [
      { ipv6: v6('2001:db8:0:0:0:0:0:9') }, // no p: no port to dial
      { p: 6882, ipv6: Uint8Array.from([1, 2, 3, 4, 5]) }, // 5 bytes
      { p: 6882, ipv6: new Uint8Array(4) }, // an IPv4 length
      { p: 6882, ipv6: new Uint8Array(17) },
      { p: 6882, ipv6: new Uint8Array(16) }, // ::
      { p: 6882, ipv6: v6('ff02:0:0:0:0:0:0:1') }, // multicast
      { p: 6882, ipv6: v6('0:0:0:0:0:ffff:c000:201') }, // mapped IPv4: not IPv6 at all
      { p: 6882, ipv6: v6('fe80:0:0:0:0:0:0:1') }, // link-local
      { p: 6882, ipv6: v6('0:0:0:0:0:0:0:1') }, // our loopback, from a public peer
      { p: 6882, ipv6: v6('fd00:0:0:0:0:0:0:1') }, // a private network, from a public peer
      { p: 6882, ipv6: 'not bytes of sixteen' },
    ];
    for (const fields of hostile)
      expect(ours.listenAddresses(peerWith(from, fields)), JSON.stringify(fields)).toEqual([]);
  });

  it('is ignored when it is the address the peer is connected from', () => {
    const peer = peerWith(
      { host: '2001:db8::9', port: 40000 },
      {
        p: 6882,
        ipv6: v6('2001:db8:0:0:0:0:0:9'),
      },
    );
    expect(ours.listenAddresses(peer)).toEqual([]);
  });
});
