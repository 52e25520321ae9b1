// What shoal takes from peers' ut_pex messages (issue #15 item 9): rate, caps, address scope.
import { describe, expect, it } from 'vitest';
import {
  addressScope,
  encodePex,
  mayAdvertise,
  PexIntake,
  PexState,
  type PexPeer,
} from '../../../src/core/pex/index.ts';

function message(hosts: string[], port = 6881): Uint8Array {
  return encodePex({ added: hosts.map((host) => ({ host, port, flags: 0 })), dropped: [] });
}

/** `count` distinct public addresses (TEST-NET-3, never dialled: these tests only decode). */
function publicHosts(count: number, offset = 0): string[] {
  return Array.from(
    { length: count },
    (_, i) => `203.0.${(i + offset) >> 8}.${(i + offset) & 255}`,
  );
}

const publicSender = { key: '198.51.100.7:51413', host: '198.51.100.7' };

describe('addressScope and mayAdvertise', () => {
  it('classifies loopback, private and public addresses, in the forms sockets report them', () => {
    for (const host of ['127.0.0.1', '127.9.8.7', '::1', '::ffff:127.0.0.1'])
      expect(addressScope(host), host).toBe('loopback');
    for (const host of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.0.5',
      '100.64.0.1',
      'fd00::1',
      'fe80::1%eth0',
      '::ffff:192.168.0.2',
    ])
      expect(addressScope(host), host).toBe('private');
    for (const host of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2001:db8::1', '::ffff:1.2.3.4'])
      expect(addressScope(host), host).toBe('public');
  });

  it('lets a peer name addresses only as close as itself or farther', () => {
    expect(mayAdvertise('8.8.8.8', '1.2.3.4')).toBe(true);
    expect(mayAdvertise('8.8.8.8', '192.168.1.1')).toBe(false);
    expect(mayAdvertise('8.8.8.8', '127.0.0.1')).toBe(false);
    expect(mayAdvertise('192.168.1.5', '192.168.1.1')).toBe(true);
    expect(mayAdvertise('192.168.1.5', '127.0.0.1')).toBe(false);
    expect(mayAdvertise('127.0.0.1', '127.0.0.1')).toBe(true);
    expect(mayAdvertise('::ffff:127.0.0.1', '10.0.0.1')).toBe(true);
  });
});

describe('PexIntake', () => {
  it('takes the first message, drops later ones within the interval unread, takes one after it', () => {
    const intake = new PexIntake({ minIntervalMs: 50_000 });
    expect(intake.receive(publicSender, message(publicHosts(3)), 0)).toHaveLength(3);
    // Too soon: not even decoded (garbage would otherwise throw).
    expect(intake.receive(publicSender, new Uint8Array([0x78]), 1_000)).toEqual([]);
    expect(intake.receive(publicSender, message(publicHosts(3, 10)), 49_999)).toEqual([]);
    expect(intake.dropped).toBe(2);
    expect(intake.receive(publicSender, message(publicHosts(2, 20)), 50_000)).toHaveLength(2);
    // Another connection has its own clock.
    const other = { key: '198.51.100.8:6881', host: '198.51.100.8' };
    expect(intake.receive(other, message(publicHosts(1)), 50_001)).toHaveLength(1);
  });

  it('takes at most maxPerMessage from a message and maxPerSource from a connection', () => {
    const intake = new PexIntake({ minIntervalMs: 0, maxPerMessage: 50, maxPerSource: 120 });
    const taken: number[] = [];
    for (let m = 0; m < 4; m++)
      taken.push(intake.receive(publicSender, message(publicHosts(200, m * 200)), m).length);
    expect(taken).toEqual([50, 50, 20, 0]);
    // A new connection from the same place starts afresh (the engine's candidate cap bounds that).
    intake.forget(publicSender.key);
    expect(intake.receive(publicSender, message(publicHosts(60, 900)), 10)).toHaveLength(50);
  });

  it('takes loopback and private addresses only from peers on such addresses', () => {
    const mixed = message(['1.2.3.4', '192.168.0.9', '127.0.0.1', '10.0.0.1']);
    const hostsFrom = (host: string) =>
      new PexIntake()
        .receive({ key: `${host}:1`, host }, mixed, 0)
        .map((peer) => peer.host)
        .sort();
    expect(hostsFrom('8.8.4.4')).toEqual(['1.2.3.4']);
    expect(hostsFrom('192.168.0.2')).toEqual(['1.2.3.4', '10.0.0.1', '192.168.0.9']);
    expect(hostsFrom('127.0.0.1')).toEqual(['1.2.3.4', '10.0.0.1', '127.0.0.1', '192.168.0.9']);
  });

  it('throws on a malformed message it reads', () => {
    expect(() => new PexIntake().receive(publicSender, new Uint8Array([0x78]), 0)).toThrow();
  });
});

describe('PexState and a peer that dialled us', () => {
  it('does not tell it about its own listening address', () => {
    const state = new PexState();
    const connected: PexPeer[] = [
      { host: '127.0.0.1', port: 6881, flags: 0 }, // the recipient, as it listens
      { host: '127.0.0.1', port: 7000, flags: 0 },
    ];
    const sent = state.next('127.0.0.1:40123', connected, 0, '127.0.0.1:6881');
    expect(sent?.added.map((peer) => peer.port)).toEqual([7000]);
  });
});
