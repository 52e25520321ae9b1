/**
 * The peer pool over an in-memory network: one backoff rule for dialing,
 * slot limits for incoming and outgoing connections, and bans. Remote peers
 * are bare PeerConnections that finish the handshake and stay quiet.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client } from '../../../src/core/client/client.ts';
import type { HashPool } from '../../../src/core/hashing/pool.ts';
import { addressKey, type PeerAddress } from '../../../src/core/net/peer-address.ts';
import type { Peer, PeerHandler } from '../../../src/core/peer/peer.ts';
import { PeerConnection } from '../../../src/core/peer/peer-connection.ts';
import { PeerPool } from '../../../src/core/session/peer-pool.ts';
import { incomingLimit } from '../../../src/core/session/peer-slots.ts';
import { MemoryNetwork } from '../../../src/core/transport/memory.ts';
import type { Transport } from '../../../src/core/transport/transport.ts';
import { encodeHandshake, makeReserved } from '../../../src/core/wire/handshake.ts';

const infoHash = randomBytes(20);
const quietHandler: PeerHandler = {
  canRequest() {},
  requestsDropped() {},
  interested() {},
  have() {},
  piecesReplaced() {},
  uploadRequested() {},
  extended() {},
  extension() {},
  block() {},
};

const closers: (() => void)[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const close of closers.splice(0)) close();
});

/** A remote peer listening on the network: completes handshakes for our torrent. */
function remotePeer(network: MemoryNetwork, host: string): PeerAddress {
  const listener = network.listen(host, ({ stream, address }) => {
    const conn = PeerConnection.accept(stream, address, {
      local: { infoHash, peerId: randomBytes(20), reserved: makeReserved({}) },
      acceptRemote: () => null,
    });
    closers.push(() => conn.close('test over'));
  });
  return { host, port: listener.port };
}

function makePool(transport: Transport, maxPeers: number, port = () => 0) {
  const connected: Peer[] = [];
  const pool = new PeerPool({
    infoHash,
    peerId: randomBytes(20),
    pieceCount: 8,
    pieceLength: 16384,
    maxPeers,
    transport,
    port,
    maxUploadQueue: 10,
    handler: quietHandler,
    mayDial: () => true,
    connected: (peer) => connected.push(peer),
    disconnected: () => {},
    found: () => {},
    warn: () => {},
    failed: (error) => {
      throw error;
    },
  });
  closers.push(() => pool.stop('test over'));
  return { pool, connected };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

/** A transport that counts dials per address before handing them to `inner`. */
function countingTransport(inner: Transport): { transport: Transport; dials: Map<string, number> } {
  const dials = new Map<string, number>();
  return {
    dials,
    transport: {
      name: 'counting',
      dial: (address, options) => {
        dials.set(addressKey(address), (dials.get(addressKey(address)) ?? 0) + 1);
        return inner.dial(address, options);
      },
    },
  };
}

/** A client listening at 127.0.0.1 on the network that hands our torrent's connections to `pool`. */
async function listeningClient(network: MemoryNetwork, pool: PeerPool): Promise<Client> {
  const client = new Client({
    port: 0,
    hashPool: null as unknown as HashPool,
    listen: async (_port, onStream) => network.listen('127.0.0.1', onStream),
  });
  await client.start();
  client.add({
    infoHash,
    accept: (stream, address, opening) => pool.accept(stream, address, opening),
  });
  closers.push(() => void client.close());
  return client;
}

describe('PeerPool', () => {
  it('dials up to maxPeers and no further; the others wait', async () => {
    const network = new MemoryNetwork();
    const remotes = Array.from({ length: 6 }, (_, i) => remotePeer(network, `10.0.0.${i + 1}`));
    const { pool, connected } = makePool(network.transport(), 4);
    pool.add(remotes, 'test');
    pool.dialMore();
    await settle();
    expect(connected).toHaveLength(4);
    expect(connected.every((peer) => peer.conn.outgoing)).toBe(true);
    // One leaves: its slot goes to a waiting address at once.
    connected[0]!.close('gone');
    await settle();
    expect(pool.peers.size).toBe(4);
    expect(connected).toHaveLength(5);
  });

  it('backs off an unreachable address: 5 s, then 10 s, then 20 s', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const network = new MemoryNetwork();
    const { transport, dials } = countingTransport(network.transport());
    const { pool } = makePool(transport, 4);
    const gone = { host: '10.9.9.9', port: 1234 }; // nothing listens there
    const attempts = () => dials.get(addressKey(gone)) ?? 0;
    pool.add([gone], 'test');
    pool.dialMore();
    await settle();
    expect(attempts()).toBe(1);
    for (const [wait, expected] of [
      [4_900, 1],
      [200, 2],
      [9_900, 2],
      [200, 3],
      [19_900, 3],
      [200, 4],
    ] as const) {
      vi.setSystemTime(Date.now() + wait);
      pool.dialMore();
      await settle();
      expect(attempts()).toBe(expected);
    }
  });

  it('keeps incoming connections to their share of the slots, and refuses banned addresses', async () => {
    const network = new MemoryNetwork();
    const { pool, connected } = makePool(network.transport(), 10);
    const client = await listeningClient(network, pool);
    const dialer = network.transport('10.1.1.1');
    const incoming: PeerConnection[] = [];
    for (let i = 0; i < 12; i++) {
      const conn = await PeerConnection.dial(
        dialer,
        { host: '127.0.0.1', port: client.port },
        {
          local: { infoHash, peerId: randomBytes(20), reserved: makeReserved({}) },
          acceptRemote: () => null,
        },
      );
      incoming.push(conn);
      closers.push(() => conn.close('test over'));
    }
    await settle();
    expect(connected).toHaveLength(incomingLimit(10));
    expect(connected.every((peer) => !peer.conn.outgoing)).toBe(true);
    expect(incoming.filter((conn) => conn.closed)).toHaveLength(12 - incomingLimit(10));

    // A ban closes the offender only, and its address is refused from then on.
    const offender = connected[0]!;
    pool.ban(pool.identity(offender.key)!, 'test');
    await settle();
    expect(offender.closed).toBe(true);
    expect(pool.peers.size).toBe(incomingLimit(10) - 1);
    const again = await PeerConnection.dial(
      dialer,
      { host: '127.0.0.1', port: client.port },
      {
        local: { infoHash, peerId: randomBytes(20), reserved: makeReserved({}) },
        acceptRemote: () => null,
      },
    );
    closers.push(() => again.close('test over'));
    await settle();
    // Same address (10.1.1.1) as the banned peer, a new port: incoming bans are by address.
    expect(again.closed).toBe(true);
  });

  it('never dials itself, and forgets nobody it was told about twice', async () => {
    const network = new MemoryNetwork();
    const { transport, dials } = countingTransport(network.transport());
    const { pool } = makePool(transport, 4, () => 6881);
    pool.add([{ host: '127.0.0.1', port: 6881 }], 'test');
    pool.add(
      [
        { host: '10.2.2.2', port: 1 },
        { host: '10.2.2.2', port: 1 },
      ],
      'test',
    );
    pool.dialMore();
    await settle();
    expect([...dials.keys()]).toEqual(['10.2.2.2:1']);
    expect(pool.knownPeers).toBe(1);
  });
});

describe('the opening of an incoming connection', () => {
  it('is routed by its info-hash; an unknown torrent or a non-BitTorrent stream is closed', async () => {
    const network = new MemoryNetwork();
    const client = new Client({
      port: 0,
      hashPool: null as unknown as HashPool,
      listen: async (_port, onStream) => network.listen('127.0.0.1', onStream),
    });
    await client.start();
    closers.push(() => void client.close());
    const routed: string[] = [];
    const other = randomBytes(20);
    client.add({ infoHash, accept: (stream) => (routed.push('ours'), stream.destroy()) });
    const dialer = network.transport('10.3.3.3');
    const open = async (bytes: Uint8Array) => {
      const stream = await dialer.dial(
        { host: '127.0.0.1', port: client.port },
        {
          timeoutMs: 1000,
          onData: () => {},
        },
      );
      stream.write(bytes);
      await settle();
      return stream;
    };
    const handshake = (hash: Uint8Array) =>
      encodeHandshake({ infoHash: hash, peerId: randomBytes(20), reserved: new Uint8Array(8) });
    await open(handshake(infoHash));
    const unknown = await open(handshake(other));
    const garbage = await open(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(routed).toEqual(['ours']);
    expect(unknown.destroyed).toBe(true);
    expect(garbage.destroyed).toBe(true);
    // Removed from the client: its connections are no longer taken.
    client.remove({ infoHash, accept: () => {} }); // not the same torrent object: no effect
    await open(handshake(infoHash));
    expect(routed).toEqual(['ours', 'ours']);
    client.remove([...client.torrents.values()][0]!);
    const late = await open(handshake(infoHash));
    expect(routed).toHaveLength(2);
    expect(late.destroyed).toBe(true);
  });

  it('dials a peer that dialled in at the listen port it gave, once it has left, and keeps that address for a later run', async () => {
    const network = new MemoryNetwork();
    const { transport, dials } = countingTransport(network.transport());
    const { pool, connected } = makePool(transport, 10);
    const client = await listeningClient(network, pool);
    // The peer listens at 10.3.3.3:<port> and dials us from another port of that host.
    const listening = remotePeer(network, '10.3.3.3');
    const conn = await PeerConnection.dial(
      network.transport('10.3.3.3'),
      { host: '127.0.0.1', port: client.port },
      {
        local: { infoHash, peerId: randomBytes(20), reserved: makeReserved({}) },
        acceptRemote: () => null,
      },
    );
    closers.push(() => conn.close('test over'));
    await settle();
    expect(connected).toHaveLength(1);
    pool.setListenPort(connected[0]!, listening.port);
    // Connected: its listen address is never dialled (that would be a duplicate).
    pool.dialMore();
    await settle();
    expect(dials.size).toBe(0);
    expect(pool.knownAddresses(10)).toEqual([listening]);

    conn.close('it leaves');
    await settle();
    pool.dialMore();
    await settle();
    expect([...dials.keys()]).toEqual([addressKey(listening)]);
    expect(connected).toHaveLength(2);
    expect(connected[1]!.conn.outgoing).toBe(true);
  });
});
