/**
 * What a magnet's metadata phase hands to the download, between the metadata
 * arriving and the download claiming it (many turns of the event loop: the
 * torrent is parsed, the data on disk checked): a handshake that finishes
 * meanwhile is answered and what the peer says is kept; a dial that lands
 * goes to whoever claimed it; what was closed is not handed on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PendingHandOff } from '../../../src/core/metadata/hand-off.ts';
import type { PeerAddress } from '../../../src/core/net/peer-address.ts';
import { PeerConnection } from '../../../src/core/peer/peer-connection.ts';
import type { IncomingStream } from '../../../src/core/transport/transport.ts';
import { MemoryNetwork } from '../../../src/core/transport/memory.ts';
import { makeReserved } from '../../../src/core/wire/handshake.ts';
import { until } from '../../helpers/swarm.ts';

const infoHash = Buffer.alloc(20, 7);
const reserved = makeReserved({ extensionProtocol: true });
/** Waits until `connection` has received `count` messages (ours is not the only listener). */
function received(connection: PeerConnection): (count: number) => Promise<void> {
  let seen = 0;
  connection.on('message', () => seen++);
  return (count) =>
    until(
      () => seen >= count,
      10_000,
      () => `${seen} of ${count} messages`,
    );
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** A remote peer that answers a dial only when told to. */
function remote(network: MemoryNetwork): {
  address: PeerAddress;
  answer: () => PeerConnection;
} {
  const waiting: IncomingStream[] = [];
  const listener = network.listen('10.0.0.2', (incoming) => waiting.push(incoming));
  closers.push(() => void listener.close());
  return {
    address: { host: '10.0.0.2', port: listener.port },
    answer: () => {
      const { stream, address } = waiting.shift()!;
      const connection = PeerConnection.accept(stream, address, {
        local: { infoHash, peerId: Buffer.alloc(20, 'r'), reserved },
        acceptRemote: () => null,
      });
      closers.push(() => connection.close('test over'));
      return connection;
    },
  };
}

async function dial(network: MemoryNetwork, address: PeerAddress): Promise<PeerConnection> {
  const connection = await PeerConnection.dial(network.transport('10.0.0.1'), address, {
    local: { infoHash, peerId: Buffer.alloc(20, 'l'), reserved },
    acceptRemote: () => null,
  });
  closers.push(() => connection.close('test over'));
  return connection;
}

/** A connection dialled to a remote that has not answered yet, handed off. */
async function handedOffConnection() {
  const network = new MemoryNetwork();
  const peer = remote(network);
  const connection = await dial(network, peer.address);
  const greeted: PeerConnection[] = [];
  const handOff = new PendingHandOff(peer.address, connection, (c) => greeted.push(c));
  return { peer, connection, greeted, handOff };
}

describe('a peer handed from the metadata phase to the download', () => {
  it('is greeted when its handshake finishes before the claim, and what it says is kept', async () => {
    const { peer, connection, greeted, handOff } = await handedOffConnection();
    const arrived = received(connection);
    const them = peer.answer();
    them.once('ready', () => {
      them.send({ type: 'bitfield', bytes: new Uint8Array([0x80]) });
      them.send({ type: 'extended', id: 0, payload: new Uint8Array([0x64, 0x65]) });
      them.send({ type: 'have', index: 3 });
    });
    await arrived(3);
    expect(greeted).toEqual([connection]);
    const claimed = handOff.claim();
    expect(claimed?.ready).toBe(true);
    if (!claimed?.ready) return;
    expect(claimed.connection).toBe(connection);
    expect(claimed.messages.map((m) => m.type)).toEqual(['bitfield', 'have']);
    expect([...claimed.extendedHandshake!]).toEqual([0x64, 0x65]);
    // From the claim on the connection is the claimer's: nothing more is kept.
    them.send({ type: 'have', index: 4 });
    await arrived(4);
    expect(claimed.messages).toHaveLength(2);
  });

  it('goes to the claimer as a dial when its handshake is still under way', async () => {
    const { peer, connection, greeted, handOff } = await handedOffConnection();
    const claimed = handOff.claim();
    expect(claimed?.ready).toBe(false);
    if (!claimed || claimed.ready) return;
    expect(await claimed.connection).toBe(connection);
    peer.answer();
    await until(
      () => connection.remote !== null,
      10_000,
      () => 'no handshake',
    );
    // The claimer answers the handshake now, not the metadata phase.
    expect(greeted).toEqual([]);
  });

  it('hands a dial that lands after the claim to the claimer', async () => {
    const network = new MemoryNetwork();
    const peer = remote(network);
    const handOff = new PendingHandOff(peer.address, null, () => {});
    const claimed = handOff.claim();
    expect(claimed?.ready).toBe(false);
    if (!claimed || claimed.ready) return;
    const connection = await dial(network, peer.address);
    handOff.landed(connection);
    expect(await claimed.connection).toBe(connection);
    expect(connection.closed).toBe(false);
  });

  it('hands nothing on when the dial failed or the peer closed before the claim', async () => {
    const network = new MemoryNetwork();
    const peer = remote(network);
    const failed = new PendingHandOff(peer.address, null, () => {});
    failed.failed();
    expect(failed.claim()).toBeNull();
    const connection = await dial(network, peer.address);
    const closed = new PendingHandOff(peer.address, connection, () => {});
    connection.close('peer went away');
    expect(closed.claim()).toBeNull();
  });

  it('closes a dial that lands after no download took it on', async () => {
    const network = new MemoryNetwork();
    const peer = remote(network);
    const handOff = new PendingHandOff(peer.address, null, () => {});
    handOff.close('download not started');
    const connection = await dial(network, peer.address);
    handOff.landed(connection);
    expect(connection.closed).toBe(true);
  });
});
