/**
 * A scriptable peer for hostile-input tests: it listens on 127.0.0.1, answers
 * the handshake for one torrent, and then does whatever the test's behaviour
 * says: serve correct data, serve wrong data, send garbage, stall, and so on.
 * It speaks raw bytes so it can also break the protocol on purpose.
 */
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { encodeHandshake } from '../../src/core/wire/handshake.ts';
import {
  encodeMessage,
  encodePieceHeader,
  type WireMessage,
} from '../../src/core/wire/messages.ts';
import { WireDecoder } from '../../src/core/wire/decoder.ts';

export interface FakePeerContext {
  socket: net.Socket;
  send(message: WireMessage): void;
  sendRaw(bytes: Uint8Array): void;
  sendBlock(index: number, begin: number, block: Uint8Array): void;
}

export interface FakePeerBehaviour {
  /** Called once the handshake is exchanged. */
  onConnect?(peer: FakePeerContext): void;
  /** Called for each message the client sends. */
  onMessage?(peer: FakePeerContext, message: WireMessage): void;
  /** Do not answer the handshake at all (accept and stay silent). */
  silent?: boolean;
  /** Set the extension-protocol bit (BEP 10) in our handshake. */
  extensionProtocol?: boolean;
}

export class FakePeer {
  readonly server: net.Server;
  readonly sockets = new Set<net.Socket>();
  connections = 0;
  requestsSeen = 0;

  private constructor(server: net.Server) {
    this.server = server;
  }

  static async start(infoHash: Uint8Array, behaviour: FakePeerBehaviour): Promise<FakePeer> {
    const server = net.createServer();
    const peer = new FakePeer(server);
    server.on('connection', (socket) => peer.#onConnection(socket, infoHash, behaviour));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return peer;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #onConnection(socket: net.Socket, infoHash: Uint8Array, behaviour: FakePeerBehaviour): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    if (behaviour.silent) return;
    const context: FakePeerContext = {
      socket,
      send: (message) => socket.write(encodeMessage(message)),
      sendRaw: (bytes) => socket.write(bytes),
      sendBlock: (index, begin, block) => {
        socket.write(encodePieceHeader(index, begin, block.length));
        socket.write(block);
      },
    };
    let handshake = Buffer.alloc(0);
    let decoder: WireDecoder | null = null;
    socket.on('data', (chunk: Buffer) => {
      if (!decoder) {
        handshake = Buffer.concat([handshake, chunk]);
        if (handshake.length < 68) return;
        const reserved = new Uint8Array(8);
        reserved[7] |= 0x04; // fast extension
        if (behaviour.extensionProtocol) reserved[5] |= 0x10;
        socket.write(
          encodeHandshake({
            reserved,
            infoHash,
            peerId: Buffer.concat([Buffer.from('-FK0001-'), randomBytes(12)]),
          }),
        );
        decoder = new WireDecoder({ maxBitfieldLength: 1 << 20 });
        behaviour.onConnect?.(context);
        chunk = handshake.subarray(68);
        if (chunk.length === 0) return;
      }
      decoder.push(chunk);
      try {
        for (let message = decoder.next(); message; message = decoder.next()) {
          if (message.type === 'request') this.requestsSeen++;
          behaviour.onMessage?.(context, message);
        }
      } catch {
        socket.destroy();
      }
    });
  }
}

/** A behaviour that seeds `data` honestly (or through `corrupt` to lie about some blocks). */
export function seeder(
  data: Uint8Array,
  pieceLength: number,
  corrupt: (index: number, begin: number, block: Buffer) => Buffer = (_i, _b, block) => block,
): FakePeerBehaviour {
  return {
    onConnect(peer) {
      peer.send({ type: 'have-all' });
      peer.send({ type: 'unchoke' });
    },
    onMessage(peer, message) {
      if (message.type !== 'request') return;
      const start = message.index * pieceLength + message.begin;
      const block = Buffer.from(data.subarray(start, start + message.length));
      peer.sendBlock(message.index, message.begin, corrupt(message.index, message.begin, block));
    },
  };
}
