/**
 * uTP against peers that misbehave, driven by a raw UDP socket that crafts
 * packets by hand: garbage, unknown connection ids, SYN floods, acks for data
 * never sent, a window shut forever, a peer that goes silent. Each must stay
 * bounded in memory and time, and never crash the socket.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UtpSocket } from '../../../../src/core/transport/utp/socket.ts';
import type { UtpConnection } from '../../../../src/core/transport/utp/connection.ts';
import { PacketType } from '../../../../src/core/transport/utp/packet.ts';
import type { UtpOptions } from '../../../../src/core/transport/utp/options.ts';
import { RawPeer } from '../../../helpers/utp-raw-peer.ts';

vi.setConfig({ testTimeout: 30_000 });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listener(options: Partial<UtpOptions> = {}): Promise<UtpSocket> {
  const socket = await UtpSocket.listen(options);
  cleanups.push(() => socket.close());
  return socket;
}

/** A hand-driven peer, closed after the test. */
async function rawPeer(): Promise<RawPeer> {
  const peer = await RawPeer.open();
  cleanups.push(() => peer.close());
  return peer;
}

/** A connection between two real sockets still works: the socket survived what came before. */
async function stillWorks(socket: UtpSocket): Promise<void> {
  const dialer = await listener();
  const accepted = once(socket, 'connection') as Promise<[UtpConnection]>;
  const client = await dialer.connect('127.0.0.1', socket.port);
  client.write('ping');
  const [server] = await accepted;
  const [chunk] = (await once(server, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('ping');
  client.destroy();
}

describe('uTP hostile input', () => {
  it("drops malformed datagrams, tells the DHT's apart, and keeps working", async () => {
    const socket = await listener();
    const peer = await rawPeer();
    const junk = [
      Buffer.alloc(0),
      Buffer.from([0x01]),
      Buffer.alloc(19, 0x01),
      Buffer.concat([Buffer.from([0x01, 0x01]), Buffer.alloc(18), Buffer.from([0, 250])]), // extension cut short
      Buffer.concat([Buffer.from([0x21, 0x01]), Buffer.alloc(18), Buffer.from([0, 0])]), // empty selective ack
      Buffer.from([0x71, ...Buffer.alloc(30)]), // type 7
    ];
    for (let i = 0; i < 200; i++)
      junk.push(Buffer.from(Array.from({ length: i % 60 }, (_, j) => (i * 31 + j * 7) & 0xff)));
    for (const bytes of junk) peer.sendBytes(socket.port, bytes);
    expect(
      socket.handleDatagram(Buffer.from('d1:q4:pinge'), { address: '127.0.0.1', port: 1 }),
    ).toBe(false);
    expect(socket.handleDatagram(junk[3]!, { address: '127.0.0.1', port: 1 })).toBe(true);
    await stillWorks(socket);
    expect(socket.connectionCount).toBe(1);
  });

  it('answers a packet for an unknown connection id with a RESET (same size, no amplification)', async () => {
    const socket = await listener();
    const peer = await rawPeer();
    peer.send(socket.port, {
      type: PacketType.DATA,
      connectionId: 4242,
      seq: 9,
      payload: Buffer.from('x'),
    });
    const reset = await peer.expect((p) => p.type === PacketType.RESET);
    expect(reset).toMatchObject({ connectionId: 4242, ack: 9 });
    // A RESET for an unknown id is not answered at all.
    peer.send(socket.port, { type: PacketType.RESET, connectionId: 777 });
    await stillWorks(socket);
    expect(peer.received.filter((p) => p.connectionId === 777)).toEqual([]);
  });

  it('caps half-open connections under a SYN flood, expires them, and still accepts afterwards', async () => {
    const socket = await listener({ maxHalfOpen: 16, halfOpenTimeoutMs: 500 });
    const peer = await rawPeer();
    for (let id = 0; id < 2000; id += 2)
      peer.send(socket.port, { type: PacketType.SYN, connectionId: id, seq: 1 });
    await peer.expect((p) => p.type === PacketType.STATE);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(socket.halfOpenCount).toBeLessThanOrEqual(16);
    expect(socket.connectionCount).toBeLessThanOrEqual(16);
    expect(peer.received.filter((p) => p.type === PacketType.STATE).length).toBeLessThanOrEqual(16);
    // They expire (bounded by the test timeout, not asserted on the clock).
    while (socket.halfOpenCount > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(socket.connectionCount).toBe(0);
    await stillWorks(socket);
  });

  it('ignores acks for data never sent, and keeps the connection', async () => {
    const socket = await listener();
    const peer = await rawPeer();
    const { connection, theirSeq } = await peer.handshake(socket, 1000);
    const [first] = (await once(connection, 'data')) as [Buffer];
    expect(first.toString()).toBe('abc');
    // Acks far ahead of anything the listener sent, with a selective ack of everything.
    for (const ack of [theirSeq + 5, theirSeq + 30_000, theirSeq - 2]) {
      peer.send(socket.port, {
        type: PacketType.STATE,
        connectionId: 1001,
        seq: 3,
        ack: ack & 0xffff,
        selectiveAck: Uint8Array.from([0xff, 0xff, 0xff, 0xff]),
      });
    }
    peer.send(socket.port, {
      type: PacketType.DATA,
      connectionId: 1001,
      seq: 3,
      ack: (theirSeq - 1) & 0xffff,
      payload: Buffer.from('def'),
    });
    const [second] = (await once(connection, 'data')) as [Buffer];
    expect(second.toString()).toBe('def');
    // And it still sends: its data packet carries the next sequence number.
    connection.write('out');
    const data = await peer.expect((p) => p.type === PacketType.DATA);
    expect(data.seq).toBe(theirSeq);
    expect(Buffer.from(data.payload).toString()).toBe('out');
    expect(connection.destroyed).toBe(false);
  });

  it('gives up on a peer whose window stays 0, holding a bounded queue meanwhile', async () => {
    const socket = await listener({ idleTimeoutMs: 2000, sendQueueBytes: 64 * 1024 });
    const peer = await rawPeer();
    const { connection, theirSeq } = await peer.handshake(socket, 2000, 0);
    // The peer keeps talking (so it is not idle), always with a window of 0.
    const chatter = setInterval(() => {
      peer.send(socket.port, {
        type: PacketType.STATE,
        connectionId: 2001,
        seq: 3,
        ack: (theirSeq - 1) & 0xffff,
        windowSize: 0,
      });
    }, 200);
    cleanups.push(() => clearInterval(chatter));
    let accepted = 0;
    const chunk = Buffer.alloc(16 * 1024);
    while (connection.write(chunk)) accepted += chunk.length;
    // Backpressure: write() said stop long before a megabyte.
    expect(accepted).toBeLessThan(256 * 1024);
    const [error] = (await once(connection, 'error')) as [Error];
    expect(error.message).toMatch(/window/);
    expect(socket.connectionCount).toBe(0);
  });

  it('times out a peer that goes silent', async () => {
    const socket = await listener({ idleTimeoutMs: 1000 });
    const peer = await rawPeer();
    const { connection } = await peer.handshake(socket, 3000);
    const [error] = (await once(connection, 'error')) as [Error & { code?: string }];
    expect(error.code).toBe('ETIMEDOUT');
    expect(socket.connectionCount).toBe(0);
  });

  it('rejects connect() to a port where nobody answers, with no stray error', async () => {
    const socket = await listener();
    const silent = await rawPeer();
    const port = silent.udp.address().port;
    await expect(socket.connect('127.0.0.1', port, { timeoutMs: 1500 })).rejects.toThrow(
      /timed out/,
    );
    // It did retry the SYN before giving up.
    expect(silent.received.filter((p) => p.type === PacketType.SYN).length).toBeGreaterThanOrEqual(
      2,
    );
    expect(socket.connectionCount).toBe(0);
  });
});

describe('reordered packets', () => {
  it('data that arrives behind a later packet is kept, though its ack is old', async () => {
    // A relay that reorders (as a real network may) delivers packet 4, which
    // acks our data, before packet 3, written before that ack: packet 3's ack
    // is then behind what we know, and its data must count all the same (the
    // sender does not resend what we acked: we would wait for its timeout).
    const socket = await listener();
    const peer = await rawPeer();
    const { connection, theirSeq } = await peer.handshake(socket, 500);
    const chunks: Buffer[] = [];
    connection.on('data', (chunk: Buffer) => chunks.push(chunk));
    connection.write(Buffer.from('x'));
    await peer.expect((p) => p.type === PacketType.DATA && p.seq === theirSeq);
    const data = (seq: number, ack: number, text: string) =>
      peer.send(socket.port, {
        type: PacketType.DATA,
        connectionId: 501,
        seq,
        ack,
        payload: Buffer.from(text),
      });
    data(4, theirSeq, 'd'); // sent second, acks 'x'
    data(3, (theirSeq - 1) & 0xffff, 'b'); // sent first, before 'x' arrived
    await peer.expect((p) => p.type === PacketType.STATE && p.ack === 4);
    expect(Buffer.concat(chunks).toString()).toBe('abcbd');
  });
});
