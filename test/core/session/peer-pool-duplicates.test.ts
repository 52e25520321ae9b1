/**
 * Two connections to one peer: both ends must keep the same one. Two peer
 * pools on an in-memory network dial each other at the same moment (as two
 * peers that learn of each other by PEX at once do); each end resolving the
 * duplicate its own way would leave no connection at all. And a peer that
 * dialled us is not dialled back at the address it says it listens on, nor
 * is the address of a connection adopted from a magnet's metadata fetch, or
 * of a dial that fetch still had under way when it handed over.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../../src/core/client/client.ts';
import type { HashPool } from '../../../src/core/hashing/pool.ts';
import { PendingHandOff } from '../../../src/core/metadata/hand-off.ts';
import { addressKey, type PeerAddress } from '../../../src/core/net/peer-address.ts';
import type { Peer, PeerHandler } from '../../../src/core/peer/peer.ts';
import { PeerConnection } from '../../../src/core/peer/peer-connection.ts';
import { keepsNewConnection } from '../../../src/core/session/duplicate-connections.ts';
import { PeerPool } from '../../../src/core/session/peer-pool.ts';
import { MemoryNetwork } from '../../../src/core/transport/memory.ts';
import type { Transport } from '../../../src/core/transport/transport.ts';

const infoHash = Buffer.alloc(20, 7);
/** Every handler a no-op: the peers only connect. */
const quietHandler = new Proxy({}, { get: () => () => {} }) as PeerHandler;

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

interface Node {
  pool: PeerPool;
  address: PeerAddress;
  connected: Peer[];
  dials: string[];
  reasons: string[];
  /** The network as this node sees it, dials not counted (the metadata fetch's own dials). */
  inner: Transport;
}

/** A pool listening at `host` on the network, with peer-id `peerId`, counting its dials. */
async function node(network: MemoryNetwork, host: string, peerId: Buffer): Promise<Node> {
  const client = new Client({
    port: 0,
    hashPool: null as unknown as HashPool,
    listen: async (_port, onStream) => network.listen(host, onStream),
  });
  await client.start();
  closers.push(() => void client.close());
  const inner = network.transport(host);
  const dials: string[] = [];
  const transport: Transport = {
    name: 'counting',
    dial: (address, options) => {
      dials.push(addressKey(address));
      return inner.dial(address, options);
    },
  };
  const connected: Peer[] = [];
  const reasons: string[] = [];
  const pool = new PeerPool({
    infoHash,
    peerId,
    pieceCount: 8,
    pieceLength: 16384,
    maxPeers: 10,
    transport,
    port: () => client.port,
    maxUploadQueue: 10,
    handler: quietHandler,
    mayDial: () => true,
    connected: (peer) => connected.push(peer),
    disconnected: (_peer, reason) => reasons.push(reason),
    found: () => {},
    warn: () => {},
    failed: (error) => {
      throw error;
    },
  });
  closers.push(() => pool.stop('test over'));
  client.add({
    infoHash,
    accept: (stream, address, opening) => pool.accept(stream, address, opening),
  });
  return { pool, address: { host, port: client.port }, connected, dials, reasons, inner };
}

/** The connections still open in a pool: [peer key, outgoing]. */
function open(n: Node): [string, boolean][] {
  return [...n.pool.peers.values()].map((peer) => [peer.key, peer.conn.outgoing]);
}

describe('duplicate connections to one peer', () => {
  it('follows libtorrent: the greater peer-id keeps its outgoing connection', () => {
    const low = Buffer.from('-LT2080-aaaaaaaaaaaa');
    const high = Buffer.from('-SH0100-aaaaaaaaaaaa');
    expect(keepsNewConnection(high, low, true)).toBe(true);
    expect(keepsNewConnection(high, low, false)).toBe(false);
    expect(keepsNewConnection(low, high, true)).toBe(false);
    expect(keepsNewConnection(low, high, false)).toBe(true);
  });

  for (const [name, first, second] of [
    ['the dialler of the first connection has the greater peer-id', 'b', 'a'],
    ['the dialler of the first connection has the smaller peer-id', 'a', 'b'],
  ] as const) {
    it(`two peers dialling each other at once keep one and the same connection (${name})`, async () => {
      const network = new MemoryNetwork();
      const a = await node(network, '10.0.0.1', Buffer.alloc(20, first));
      const b = await node(network, '10.0.0.2', Buffer.alloc(20, second));
      a.pool.add([b.address], 'test');
      b.pool.add([a.address], 'test');
      a.pool.dialMore();
      b.pool.dialMore();
      await settle();
      const kept = open(a);
      expect(kept, `a: ${JSON.stringify(a.reasons)} b: ${JSON.stringify(b.reasons)}`).toHaveLength(
        1,
      );
      expect(open(b)).toHaveLength(1);
      // One connection seen from both ends: outgoing on one side, incoming on the other,
      // dialled by the greater peer-id.
      const aDialled = kept[0]![1];
      expect(open(b)[0]![1]).toBe(!aDialled);
      expect(aDialled).toBe(first > second);
    });
  }

  it('does not dial a connected peer at the address it says it listens on', async () => {
    const network = new MemoryNetwork();
    const a = await node(network, '10.0.0.1', Buffer.alloc(20, 'a'));
    const b = await node(network, '10.0.0.2', Buffer.alloc(20, 'b'));
    b.pool.add([a.address], 'test');
    b.pool.dialMore();
    await settle();
    expect(a.connected).toHaveLength(1);
    // The extension handshake told a where b listens; then PEX (say) names that address.
    a.pool.setListenPort(a.connected[0]!, b.address.port);
    a.pool.add([b.address], 'pex');
    a.pool.dialMore();
    await settle();
    expect(a.dials).toEqual([]);
    expect(open(a)).toHaveLength(1);
  });

  it("does not dial a connected peer's other address (its extension handshake's ipv6)", async () => {
    const network = new MemoryNetwork();
    const a = await node(network, '10.0.0.1', Buffer.alloc(20, 'a'));
    const b = await node(network, '10.0.0.2', Buffer.alloc(20, 'b'));
    a.pool.add([b.address], 'test');
    a.pool.dialMore();
    await settle();
    expect(a.connected).toHaveLength(1);
    const elsewhere = { host: '2001:db8::2', port: b.address.port };
    a.pool.alsoListensAt(a.connected[0]!, [elsewhere], 'extension handshake');
    expect(a.pool.knownPeers).toBe(2);
    a.pool.dialMore();
    await settle();
    expect(a.dials).toEqual([addressKey(b.address)]);
  });

  it('does not dial the address of a connection adopted from the metadata fetch', async () => {
    const network = new MemoryNetwork();
    const a = await node(network, '10.0.0.1', Buffer.alloc(20, 'a'));
    const b = await node(network, '10.0.0.2', Buffer.alloc(20, 'b'));
    // The metadata fetch dialled b (outside the pool) and hands the connection over.
    const fetched = await PeerConnection.dial(a.inner, b.address, {
      local: { infoHash, peerId: Buffer.alloc(20, 'a'), reserved: new Uint8Array(8) },
      acceptRemote: () => null,
    });
    await new Promise((resolve) => fetched.once('ready', resolve));
    a.pool.adopt(new PendingHandOff(b.address, fetched, () => {}));
    expect(open(a)).toEqual([[addressKey(b.address), true]]);
    // The download then learns of the same address (its --peer, a tracker).
    a.pool.add([b.address], 'command line');
    a.pool.dialMore();
    await settle();
    expect(a.dials).toEqual([]);
    expect(open(a)).toEqual([[addressKey(b.address), true]]);
    expect(a.reasons).toEqual([]);
  });

  it('takes on a dial the metadata fetch still had under way, instead of dialling again', async () => {
    const network = new MemoryNetwork();
    const a = await node(network, '10.0.0.1', Buffer.alloc(20, 'a'));
    const b = await node(network, '10.0.0.2', Buffer.alloc(20, 'b'));
    // The metadata arrived while the fetch's dial of b was under way: it hands the dial over.
    const handOff = new PendingHandOff(b.address, null, () => {});
    a.pool.adopt(handOff);
    a.pool.add([b.address], 'magnet');
    a.pool.dialMore();
    await settle();
    expect(a.dials).toEqual([]);
    expect(b.connected).toHaveLength(0);
    // The fetch's dial lands: the pool finishes the handshake as for a dial of its own.
    const landed = await PeerConnection.dial(a.inner, b.address, {
      local: { infoHash, peerId: Buffer.alloc(20, 'a'), reserved: new Uint8Array(8) },
      acceptRemote: () => null,
    });
    handOff.landed(landed);
    await settle();
    expect(open(a)).toEqual([[addressKey(b.address), true]]);
    expect(b.connected).toHaveLength(1);
    expect(a.dials).toEqual([]);
    expect(a.reasons).toEqual([]);
  });
});
