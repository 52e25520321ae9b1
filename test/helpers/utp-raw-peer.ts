/**
 * A hand-driven uTP peer for tests: a raw UDP socket on 127.0.0.1 that sends
 * whatever packet a test crafts and collects every packet that comes back, so
 * a test can play a misbehaving (or a precisely timed) peer against UtpSocket.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { expect } from 'vitest';
import type { UtpConnection } from '../../src/core/transport/utp/connection.ts';
import {
  decodePacket,
  encodePacket,
  PacketType,
  type Packet,
} from '../../src/core/transport/utp/packet.ts';
import type { UtpSocket } from '../../src/core/transport/utp/socket.ts';

/** A hand-driven uTP peer: sends whatever packet it is told, collects what comes back. */
export class RawPeer {
  readonly udp = dgram.createSocket('udp4');
  readonly received: Packet[] = [];
  #waiters: (() => void)[] = [];

  static async open(): Promise<RawPeer> {
    const peer = new RawPeer();
    peer.udp.on('message', (message) => {
      const decoded = decodePacket(message);
      if (decoded.ok) peer.received.push(decoded.packet);
      for (const wake of peer.#waiters.splice(0)) wake();
    });
    await new Promise<void>((resolve) => peer.udp.bind(0, '127.0.0.1', () => resolve()));
    return peer;
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => this.udp.close(() => resolve()));
  }

  send(port: number, fields: Partial<Packet> & { type: Packet['type'] }): void {
    this.sendBytes(
      port,
      encodePacket({
        connectionId: 0,
        timestamp: 0,
        timestampDiff: 0,
        windowSize: 1 << 20,
        seq: 0,
        ack: 0,
        payload: new Uint8Array(0),
        ...fields,
      }),
    );
  }

  sendBytes(port: number, bytes: Uint8Array): void {
    this.udp.send(bytes, port, '127.0.0.1');
  }

  /** The first packet received (from now on or before) that matches. */
  async expect(match: (packet: Packet) => boolean, timeoutMs = 10_000): Promise<Packet> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error('expected packet did not arrive');
      await Promise.race([
        new Promise<void>((resolve) => this.#waiters.push(resolve)),
        new Promise((resolve) => setTimeout(resolve, 100)),
      ]);
    }
  }

  /**
   * Opens a connection by hand (SYN with id `id`, seq 1, then a DATA packet)
   * and returns the listener's side of it and our next sequence number.
   */
  async handshake(
    socket: UtpSocket,
    id: number,
    windowSize = 1 << 20,
  ): Promise<{ connection: UtpConnection; theirSeq: number }> {
    const accepted = once(socket, 'connection') as Promise<[UtpConnection]>;
    this.send(socket.port, { type: PacketType.SYN, connectionId: id, seq: 1, windowSize });
    const state = await this.expect((p) => p.type === PacketType.STATE && p.connectionId === id);
    expect(state.ack).toBe(1);
    this.send(socket.port, {
      type: PacketType.DATA,
      connectionId: id + 1,
      seq: 2,
      ack: (state.seq - 1) & 0xffff,
      windowSize,
      payload: Buffer.from('abc'),
    });
    const [connection] = await accepted;
    return { connection, theirSeq: state.seq };
  }
}
