/**
 * The peer's FIN ends the connection on our side too (issue #16): libtorrent
 * closes a connection with FIN, and a stream that only ended its readable side
 * stayed half-open for ever, so the session kept a dead peer. On the peer's
 * FIN: the readable side ends, we answer with our FIN once what we wrote
 * before it is delivered, and if `finTimeoutMs` pass with nothing of ours
 * acked the connection is destroyed.
 *
 * The listener's clock is the test's (`now`), so the FIN timeout passes when
 * the test says, not after a sleep.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UtpSocket } from '../../../../src/core/transport/utp/socket.ts';
import { PacketType } from '../../../../src/core/transport/utp/packet.ts';
import { RawPeer } from '../../../helpers/utp-raw-peer.ts';

vi.setConfig({ testTimeout: 30_000 });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const FIN_TIMEOUT_MS = 2_000;

/** A listener on a clock the test moves, a raw peer connected to it, and the connection. */
async function connectedPair(id: number) {
  let clock = 1_000_000;
  const socket = await UtpSocket.listen({ now: () => clock, finTimeoutMs: FIN_TIMEOUT_MS });
  cleanups.push(() => socket.close());
  const peer = await RawPeer.open();
  cleanups.push(() => peer.close());
  const { connection, theirSeq } = await peer.handshake(socket, id);
  const [first] = (await once(connection, 'data')) as [Buffer];
  expect(first.toString()).toBe('abc');
  connection.resume();
  /** The peer's FIN, after its handshake DATA (seq 2). */
  const sendFin = () =>
    peer.send(socket.port, {
      type: PacketType.FIN,
      connectionId: id + 1,
      seq: 3,
      ack: (theirSeq - 1) & 0xffff,
    });
  const advance = (ms: number) => {
    clock += ms;
  };
  return { socket, peer, connection, sendFin, advance };
}

describe("uTP: the peer's FIN", () => {
  it('ends our readable side and is answered with our FIN; its ack closes the connection cleanly', async () => {
    const { socket, peer, connection, sendFin } = await connectedPair(100);
    const ended = once(connection, 'end');
    const closed = once(connection, 'close');
    sendFin();
    await ended;
    const fin = await peer.expect((p) => p.type === PacketType.FIN && p.connectionId === 100);
    // Our FIN carries the ack of theirs.
    expect(fin.ack).toBe(3);
    peer.send(socket.port, { type: PacketType.STATE, connectionId: 101, seq: 4, ack: fin.seq });
    await closed;
    expect(connection.errored).toBeNull();
    expect(socket.connectionCount).toBe(0);
    expect(peer.received.some((p) => p.type === PacketType.RESET)).toBe(false);
  });

  it('destroys the connection when our FIN is still unacked after finTimeoutMs', async () => {
    const { socket, peer, connection, sendFin, advance } = await connectedPair(200);
    const closed = once(connection, 'close');
    sendFin();
    await once(connection, 'end');
    await peer.expect((p) => p.type === PacketType.FIN && p.connectionId === 200);
    // The peer has gone: nothing acks our FIN. Before the timeout the connection waits ...
    advance(FIN_TIMEOUT_MS - 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(connection.destroyed).toBe(false);
    // ... and after it, it is gone (the socket's timer checks every 50 ms).
    advance(2);
    await closed;
    expect(socket.connectionCount).toBe(0);
    // A peer that is still there learns the connection is gone.
    await peer.expect((p) => p.type === PacketType.RESET && p.connectionId === 200);
  });

  it('still delivers what was queued before the FIN, however long that takes while the peer acks it', async () => {
    const { socket, peer, connection, sendFin, advance } = await connectedPair(300);
    const closed = once(connection, 'close');
    // Many congestion windows: it takes more round trips than finTimeoutMs allows from the FIN.
    connection.write(Buffer.alloc(128 * 1024, 7));
    sendFin();
    await once(connection, 'end');
    const ourData = () =>
      peer.received.filter((p) => p.type === PacketType.DATA && p.connectionId === 300);
    const ourFinSent = () =>
      peer.received.some((p) => p.type === PacketType.FIN && p.connectionId === 300);
    /** Real time for the socket to handle what was sent and run its timer (it ticks every 50 ms). */
    const settle = async (heardBefore: number) => {
      const until = Date.now() + 400;
      while (peer.received.length === heardBefore && Date.now() < until)
        await new Promise((resolve) => setTimeout(resolve, 20));
      await new Promise((resolve) => setTimeout(resolve, 80));
    };
    let acked = -1;
    let waited = 0;
    // A quarter of finTimeoutMs passes between acks: past finTimeoutMs from the FIN, never from an ack.
    while (!ourFinSent()) {
      expect(connection.destroyed).toBe(false);
      const sent = ourData();
      const last = sent.length > 0 ? sent[sent.length - 1]!.seq : -1;
      const heard = peer.received.length;
      if (last !== acked) {
        acked = last;
        peer.send(socket.port, { type: PacketType.STATE, connectionId: 301, seq: 4, ack: last });
        await settle(heard);
      }
      advance(FIN_TIMEOUT_MS / 4);
      waited += FIN_TIMEOUT_MS / 4;
      await settle(peer.received.length);
      expect(waited).toBeLessThan(120_000);
    }
    expect(waited).toBeGreaterThan(FIN_TIMEOUT_MS);
    expect(peer.received.some((p) => p.type === PacketType.RESET)).toBe(false);
    const bytes = ourData().reduce((sum, p) => sum + p.payload.length, 0);
    expect(bytes).toBeGreaterThanOrEqual(128 * 1024);
    const fin = await peer.expect((p) => p.type === PacketType.FIN && p.connectionId === 300);
    peer.send(socket.port, { type: PacketType.STATE, connectionId: 301, seq: 4, ack: fin.seq });
    await closed;
    expect(connection.errored).toBeNull();
  });
});
