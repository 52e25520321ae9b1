/**
 * The tracker's registry: expiry, the three caps, numwant, IPv4/IPv6
 * separation, seeder/leecher/completed counts, and the compact and
 * dictionary encodings of what it hands out.
 */
import { describe, expect, it } from 'vitest';
import { decodeBencode, isDict, isBytes } from '../../../src/core/bencode/index.ts';
import {
  compactAddress,
  peerHost,
  peerPort,
} from '../../../src/core/tracker-server/peer-address.ts';
import { encodeAnnounce } from '../../../src/core/tracker-server/http-response.ts';
import {
  SwarmRegistry,
  type AnnounceInput,
  type RegistryLimits,
} from '../../../src/core/tracker-server/swarm-registry.ts';

const HASH_A = 'A'.repeat(20);
const HASH_B = 'B'.repeat(20);

function registry(limits: Partial<RegistryLimits> = {}): SwarmRegistry {
  return new SwarmRegistry({
    maxPeersPerTorrent: 1000,
    maxPeers: 10_000,
    maxTorrents: 100,
    peerTtlMs: 60_000,
    maxIdleTorrents: 100,
    ...limits,
  });
}

function v4(n: number, port = 6881): string {
  return compactAddress(`10.0.${n >> 8}.${n & 0xff}`, port)!;
}
function v6(n: number, port = 6881): string {
  return compactAddress(`fd00::${n.toString(16)}`, port)!;
}

function announce(r: SwarmRegistry, over: Partial<AnnounceInput>) {
  return r.announce({
    infoHash: HASH_A,
    peerId: 'P'.repeat(20),
    address: v4(1),
    left: 100,
    event: 'started',
    numWant: 50,
    families: 'both',
    now: 0,
    ...over,
  });
}

describe('swarm registry', () => {
  it('hands out other peers, never the announcer, at most numWant', () => {
    const r = registry();
    for (let i = 1; i <= 30; i++) announce(r, { address: v4(i) });
    const answer = announce(r, { address: v4(1), numWant: 10, event: undefined });
    expect(answer.peers).toHaveLength(10);
    expect(answer.peers.map((p) => p.address)).not.toContain(v4(1));
    expect(new Set(answer.peers.map((p) => p.address)).size).toBe(10);
    expect(announce(r, { address: v4(1), numWant: 0, event: undefined }).peers).toHaveLength(0);
    expect(announce(r, { address: v4(1), numWant: 500, event: undefined }).peers).toHaveLength(29);
  });

  it('keeps IPv4 and IPv6 peers apart: each family asks for its own, HTTP gets both', () => {
    const r = registry();
    for (let i = 1; i <= 5; i++) announce(r, { address: v4(i) });
    for (let i = 1; i <= 3; i++) announce(r, { address: v6(i) });
    const onlyV4 = announce(r, { address: v4(9), families: 'v4' });
    expect(onlyV4.peers.every((p) => p.address.length === 6)).toBe(true);
    expect(onlyV4.peers).toHaveLength(5);
    const onlyV6 = announce(r, { address: v6(9), families: 'v6' });
    expect(onlyV6.peers.every((p) => p.address.length === 18)).toBe(true);
    expect(onlyV6.peers).toHaveLength(3);
    const both = announce(r, { address: v4(10), families: 'both' });
    expect(both.peers.filter((p) => p.address.length === 18)).toHaveLength(4);
    expect(both.peers.filter((p) => p.address.length === 6)).toHaveLength(6);
  });

  it('counts seeders, leechers and completed downloads; stopped leaves the swarm', () => {
    const r = registry();
    announce(r, { address: v4(1), left: 0 });
    announce(r, { address: v4(2), left: 10 });
    announce(r, { address: v4(3), left: 10 });
    expect(r.scrape(HASH_A)).toEqual({ seeders: 1, leechers: 2, completed: 0 });
    announce(r, { address: v4(2), left: 0, event: 'completed' });
    // A repeated `completed` from the same peer does not count twice.
    announce(r, { address: v4(2), left: 0, event: 'completed' });
    expect(r.scrape(HASH_A)).toEqual({ seeders: 2, leechers: 1, completed: 1 });
    announce(r, { address: v4(3), event: 'stopped' });
    expect(r.scrape(HASH_A)).toEqual({ seeders: 2, leechers: 0, completed: 1 });
    expect(r.counts).toEqual({ torrents: 1, peers: 2, seeders: 2, idleTorrents: 0 });
  });

  it('forgets peers not heard from within the TTL, and empty torrents with --open', () => {
    const r = registry({ peerTtlMs: 1000 });
    announce(r, { address: v4(1), now: 0 });
    announce(r, { address: v4(2), now: 0 });
    announce(r, { address: v4(3), now: 0, infoHash: HASH_B });
    announce(r, { address: v4(2), now: 900, event: undefined });
    expect(r.expire(1500)).toBe(2);
    expect(r.counts).toEqual({ torrents: 1, peers: 1, seeders: 0, idleTorrents: 0 });
    expect(announce(r, { address: v4(5), now: 1500 }).peers.map((p) => p.address)).toEqual([v4(2)]);
    expect(r.expire(10_000)).toBe(2);
    expect(r.counts.torrents).toBe(0);
  });

  it('keeps only the completed count of a torrent whose peers left or expired', () => {
    const r = registry({ peerTtlMs: 1000 });
    announce(r, { address: v4(1), left: 0, event: 'completed' });
    announce(r, { address: v4(2), left: 0, event: 'completed' });
    announce(r, { address: v4(2), left: 0, event: 'stopped' });
    r.expire(5000);
    expect(r.counts).toEqual({ torrents: 0, peers: 0, seeders: 0, idleTorrents: 1 });
    expect(r.scrape(HASH_A)).toEqual({ seeders: 0, leechers: 0, completed: 2 });
    // A torrent that never saw a completion leaves nothing behind.
    announce(r, { infoHash: HASH_B, address: v4(3) });
    announce(r, { infoHash: HASH_B, address: v4(3), event: 'stopped' });
    expect(r.counts.idleTorrents).toBe(1);
    // Back in use, it counts on from 2.
    announce(r, { address: v4(4), now: 6000 });
    expect(r.counts).toMatchObject({ torrents: 1, idleTorrents: 0 });
    announce(r, { address: v4(4), left: 0, event: 'completed', now: 6000 });
    expect(r.scrape(HASH_A)).toEqual({ seeders: 1, leechers: 0, completed: 3 });
  });

  it('caps the remembered counts: the torrent idle longest is forgotten first', () => {
    const r = registry({ maxIdleTorrents: 3 });
    const hashes = ['1', '2', '3', '4'].map((c) => c.repeat(20));
    for (const infoHash of hashes) {
      announce(r, { infoHash, left: 0, event: 'completed' });
      announce(r, { infoHash, left: 0, event: 'stopped' });
    }
    expect(r.counts.idleTorrents).toBe(3);
    expect(hashes.map((h) => r.scrape(h).completed)).toEqual([0, 1, 1, 1]);
  });

  it('caps peers per torrent: newcomers get peers but are not stored', () => {
    const r = registry({ maxPeersPerTorrent: 3 });
    for (let i = 1; i <= 3; i++) expect(announce(r, { address: v4(i) }).stored).toBe(true);
    const late = announce(r, { address: v4(4) });
    expect(late.stored).toBe(false);
    expect(late.peers).toHaveLength(3);
    expect(r.counts.peers).toBe(3);
    // A peer already in keeps re-announcing normally.
    expect(announce(r, { address: v4(2), event: undefined }).stored).toBe(true);
  });

  it('caps peers overall and torrents overall', () => {
    const r = registry({ maxPeers: 5, maxTorrents: 2 });
    for (let i = 0; i < 50; i++) {
      const hash = String.fromCharCode(i).repeat(20);
      announce(r, { infoHash: hash, address: v4(i) });
      announce(r, { infoHash: hash, address: v4(i + 100) });
      announce(r, { infoHash: hash, address: v4(i + 200) });
    }
    expect(r.counts.torrents).toBe(2);
    expect(r.counts.peers).toBe(5);
  });

  it('a stopped announce for an unknown torrent creates nothing', () => {
    const r = registry();
    announce(r, { event: 'stopped' });
    expect(r.counts).toEqual({ torrents: 0, peers: 0, seeders: 0, idleTorrents: 0 });
  });
});

describe('announce encoding', () => {
  const r = registry();
  announce(r, { address: compactAddress('192.0.2.7', 51413)!, peerId: 'x'.repeat(20) });
  announce(r, { address: compactAddress('2001:db8::7', 6000)!, peerId: 'y'.repeat(20) });
  const answer = announce(r, { address: v4(200) });

  it('compact: IPv4 in peers (6 bytes each), IPv6 in peers6 (18 bytes each)', () => {
    const body = encodeAnnounce({
      ...answer,
      intervalSec: 300,
      minIntervalSec: 150,
      compact: true,
      noPeerId: false,
    });
    const dict = decodeBencode(body).value;
    if (!isDict(dict)) throw new Error('not a dictionary');
    expect(dict['interval']).toBe(300);
    expect(dict['min interval']).toBe(150);
    expect(Buffer.from(dict['peers'] as Uint8Array).toString('hex')).toBe('c0000207c8d5');
    expect(Buffer.from(dict['peers6'] as Uint8Array).toString('hex')).toBe(
      '20010db8000000000000000000000007' + '1770',
    );
  });

  it('dictionary model: ip text, port, peer id unless no_peer_id', () => {
    const body = encodeAnnounce({
      ...answer,
      intervalSec: 300,
      minIntervalSec: 150,
      compact: false,
      noPeerId: false,
    });
    const dict = decodeBencode(body).value;
    if (!isDict(dict) || !Array.isArray(dict['peers'])) throw new Error('no peer list');
    const peers = dict['peers'].map((p) => {
      if (!isDict(p) || !isBytes(p['ip'])) throw new Error('bad peer');
      return [
        Buffer.from(p['ip']).toString(),
        p['port'],
        Buffer.from(p['peer id'] as Uint8Array).toString(),
      ];
    });
    expect(peers).toEqual([
      ['192.0.2.7', 51413, 'x'.repeat(20)],
      ['2001:db8::7', 6000, 'y'.repeat(20)],
    ]);
    const without = encodeAnnounce({
      ...answer,
      intervalSec: 1,
      minIntervalSec: 1,
      compact: false,
      noPeerId: true,
    });
    expect(Buffer.from(without).includes('peer id')).toBe(false);
  });

  it('compact addresses round-trip, IPv4-mapped IPv6 becomes IPv4', () => {
    for (const [host, port] of [
      ['127.0.0.1', 1],
      ['::1', 65535],
      ['fd00::1:2:3:4', 80],
      ['1:2:3:4:5:6:7:8', 9],
    ] as const) {
      const address = compactAddress(host, port)!;
      expect([peerHost(address), peerPort(address)]).toEqual([host, port]);
    }
    expect(compactAddress('::ffff:10.1.2.3', 5)).toBe(compactAddress('10.1.2.3', 5));
    expect(compactAddress('example.org', 5)).toBeNull();
    // Link-local, scoped or not: no other peer could dial it.
    expect(compactAddress('fe80::1%eth0', 5)).toBeNull();
    expect(compactAddress('fe80::1', 5)).toBeNull();
    expect(compactAddress('10.0.0.1', 0)).toBeNull();
  });
});
