/**
 * A TCP connection dialled through MSE reads the way a plain TCP dial does:
 * into the one shared read buffer (routed-reads.ts), not a fresh buffer per
 * read. Seen through the transport seam: every read handed to `onData` after
 * the handshake is a view of the same memory a plain dial's reads are, and the
 * bytes, including those that came in the handshake's last read, arrive
 * intact and in order, in MSE's plaintext mode and under RC4.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { clientTransport } from '../../../src/core/client/dialer.ts';
import { CryptoMethod, type EncryptionPolicy } from '../../../src/core/transport/mse/policy.ts';
import { fakeReceiver } from '../transport/mse/fake-peers.ts';

const WAIT_MS = 30_000;
const infoHash = randomBytes(20);

const servers: net.Server[] = [];
const streams: Duplex[] = [];
afterEach(() => {
  for (const stream of streams.splice(0)) stream.destroy();
  for (const server of servers.splice(0)) server.close();
});

async function serve(onSocket: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    onSocket(socket);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

interface Reads {
  /** A copy of each chunk, in order. */
  copies: Buffer[];
  /** The memory each chunk was a view of. */
  memory: ArrayBufferLike[];
  total: number;
}

/** Dials `port` with `encryption` over TCP; resolves once `length` bytes have been read. */
async function dialAndRead(
  port: number,
  encryption: EncryptionPolicy,
  length: number,
): Promise<Reads> {
  const transport = clientTransport({
    transport: 'tcp',
    encryption,
    utpSocket: () => Promise.reject(new Error('no uTP in this test')),
  });
  const reads: Reads = { copies: [], memory: [], total: 0 };
  let done!: () => void;
  const all = new Promise<void>((resolve) => (done = resolve));
  const stream = await transport.dial(
    { host: '127.0.0.1', port },
    {
      timeoutMs: WAIT_MS,
      infoHash,
      onData: (chunk) => {
        reads.copies.push(Buffer.from(chunk));
        reads.memory.push(chunk.buffer);
        reads.total += chunk.length;
        if (reads.total >= length) done();
      },
    },
  );
  streams.push(stream);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    all,
    new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`read ${reads.total} of ${length} bytes`)),
        WAIT_MS,
      );
    }),
  ]);
  clearTimeout(timer);
  return reads;
}

/** The memory a plain TCP dial reads into. */
async function plainReadMemory(): Promise<ArrayBufferLike> {
  const port = await serve((socket) => socket.end(Buffer.from('hello')));
  const reads = await dialAndRead(port, 'off', 5);
  return reads.memory[0]!;
}

describe('a dialled TCP connection through MSE', () => {
  it.each([
    ['plaintext mode (crypto_select 0x01)', CryptoMethod.plaintext, 'prefer'],
    ['RC4', CryptoMethod.rc4, 'require'],
  ] as const)(
    'in %s reads into the shared read buffer and delivers every byte in order',
    async (_name, select, policy) => {
      const shared = await plainReadMemory();
      // Sent in the same write as the handshake's end: the first bytes arrive in its last read.
      const payload = randomBytes(2 * 1024 * 1024);
      const port = await serve((socket) => {
        void fakeReceiver(socket, { skey: infoHash, select, after: payload }).catch(() => {});
      });

      const reads = await dialAndRead(port, policy, payload.length);

      expect(Buffer.concat(reads.copies).equals(payload)).toBe(true);
      // The first chunk is what the handshake's last read carried past its end (a copy); every
      // later read lands in the shared buffer, as a plain dial's do.
      expect(reads.memory[0]).not.toBe(shared);
      const later = reads.memory.slice(1);
      expect(later.length).toBeGreaterThan(0);
      expect(later.every((memory) => memory === shared)).toBe(true);
    },
  );
});
