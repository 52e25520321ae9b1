/**
 * uTP through a relay that loses, delays and reorders datagrams (seeded:
 * SHOAL_TEST_SEED=N replays a run): the transfer completes, byte for byte.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { UtpSocket } from '../../../../src/core/transport/utp/socket.ts';
import type { UtpConnection } from '../../../../src/core/transport/utp/connection.ts';
import { startUdpRelay, type UdpRelay } from '../../../helpers/udp-relay.ts';
import { testSeed } from '../../../helpers/random.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/**
 * SHA-1 of the first `length` bytes the stream delivers. The stream stays
 * flowing, so its end (the peer's FIN) is still seen afterwards.
 */
function digestOf(stream: Duplex, length: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha1');
    let seen = 0;
    stream.on('data', (chunk: Buffer) => {
      if (seen >= length) return;
      hash.update(chunk);
      seen += chunk.length;
      if (seen >= length) resolve(hash.digest('hex'));
    });
    stream.once('error', reject);
  });
}

/** Writes all of `data`, minding backpressure, and leaves the stream open. */
async function writeAll(stream: Duplex, data: Buffer): Promise<void> {
  for (let at = 0; at < data.length; at += 50_000) {
    if (!stream.write(data.subarray(at, at + 50_000))) await once(stream, 'drain');
  }
}

async function throughRelay(
  relayOptions: { lossRate: number; delayMs: number; jitterMs: number },
  label: string,
): Promise<{ client: UtpConnection; server: UtpConnection; relay: UdpRelay }> {
  const listener = await UtpSocket.listen();
  const dialer = await UtpSocket.listen();
  cleanups.push(
    () => listener.close(),
    () => dialer.close(),
  );
  const relay = await startUdpRelay({
    target: { host: '127.0.0.1', port: listener.port },
    ...relayOptions,
    seed: testSeed(label),
  });
  cleanups.push(() => relay.close());
  const accepted = once(listener, 'connection') as Promise<[UtpConnection]>;
  // The SYN itself may be lost: connect retries it within its timeout.
  const client = await dialer.connect('127.0.0.1', relay.port, { timeoutMs: 30_000 });
  client.write(Buffer.from('x'));
  const [server] = await accepted;
  server.read(0);
  return { client, server, relay };
}

describe('uTP over a lossy, slow, reordering path', () => {
  it('moves 3 MiB each way through 5% loss, 20 ms delay and reordering', async () => {
    const { client, server, relay } = await throughRelay(
      { lossRate: 0.05, delayMs: 20, jitterMs: 10 },
      'utp lossy transfer',
    );
    const up = randomBytes(3 * 1024 * 1024);
    const down = randomBytes(3 * 1024 * 1024);
    const firstByte = new Promise<Buffer>((resolve) => server.once('data', resolve));
    // Each side ends only once it has everything: a FIN ends the peer's writing side as well
    // (BitTorrent never half-closes), so ending early would cut the other direction short.
    const [atServer, atClient] = await Promise.all([
      digestOf(server, 1 + up.length),
      digestOf(client, down.length),
      writeAll(client, up),
      writeAll(server, down),
    ]);
    const closed = Promise.all([once(client, 'close'), once(server, 'close')]);
    client.end();
    server.end();
    await closed;
    expect(client.errored).toBeNull();
    expect(server.errored).toBeNull();
    const prefix = await firstByte;
    expect(prefix[0]).toBe('x'.charCodeAt(0));
    expect(atServer).toBe(sha1(Buffer.concat([Buffer.from('x'), up])));
    expect(atClient).toBe(sha1(down));
    // The relay really did lose packets: the test proves recovery, not luck.
    expect(relay.stats.dropped).toBeGreaterThan(50);
  }, 180_000);
});
