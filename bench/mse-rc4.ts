/**
 * Throughput of MSE's RC4, for docs/ENCRYPTION.md (a measurement, not a test):
 *   node_modules/.bin/node bench/mse-rc4.ts
 *   node_modules/.bin/node --openssl-legacy-provider bench/mse-rc4.ts   (adds OpenSSL's RC4)
 * 1. the cipher alone (shoal's, and OpenSSL's when the legacy provider is
 *    loaded, the reason shoal has its own), 1 GiB in 16 KiB + 13 byte
 *    chunks (a piece message), rounds alternating, median of 3;
 * 2. 1 GiB through loopback TCP: the plain socket vs the MSE RC4 stream
 *    (policy require on both ends: this one process enciphers and deciphers),
 *    read the way the engine's dialer reads (the shared read buffer).
 * Rates are MiB per second of this process's CPU time (user + system), which
 * a busy shared machine disturbs far less than wall-clock time.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { createCipheriv, randomBytes as keyBytes } from 'node:crypto';
import { createRc4, type StreamCipher } from '../src/core/transport/mse/rc4.ts';
import {
  SkeyIndex,
  secureIncoming,
  secureOutgoing,
  type SecuredConnection,
} from '../src/core/transport/mse/index.ts';
import { connectTcpRouted } from '../src/core/transport/tcp.ts';

type Implementation = 'shoal' | 'openssl';

/** OpenSSL's RC4 behind the same interface (needs --openssl-legacy-provider). */
function opensslRc4(key: Uint8Array): StreamCipher {
  const cipher = createCipheriv('rc4', key, null);
  cipher.update(Buffer.alloc(1024));
  return {
    update: (data) => cipher.update(data),
    updateInPlace: (data) => cipher.update(data),
    updateInto: (data, out, offset) => void out.set(cipher.update(data), offset),
  };
}

function opensslHasRc4(): boolean {
  try {
    opensslRc4(keyBytes(20));
    return true;
  } catch {
    return false;
  }
}

const GiB = 1024 * 1024 * 1024;
const MiB = 1024 * 1024;
const chunk = randomBytes(16 * 1024 + 13);

/** MiB per CPU second spent since `since` (a process.cpuUsage() reading). */
function perCpuSecond(bytes: number, since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return bytes / MiB / ((used.user + used.system) / 1e6);
}

function cipherRate(implementation: Implementation, inPlace: boolean): number {
  const rc4 =
    implementation === 'shoal' ? createRc4(randomBytes(20), 1024) : opensslRc4(randomBytes(20));
  const started = process.cpuUsage();
  for (let done = 0; done < GiB; done += chunk.length) {
    if (inPlace) rc4.updateInPlace(chunk);
    else rc4.update(chunk);
  }
  return perCpuSecond(GiB, started);
}

/**
 * 1 GiB from an accepted socket to a dialled one, the way a download flows:
 * the dialled side reads into the shared read buffer (deciphered in place
 * under RC4) as the engine's dialer does; the accepted side writes 256 KiB
 * blocks (enciphered into new buffers under RC4, as a seeder's cached blocks are).
 */
async function tcpRate(encrypted: boolean): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[net.Socket]>;
  const port = (server.address() as net.AddressInfo).port;
  const { socket, reads } = await connectTcpRouted({ host: '127.0.0.1', port }, 10_000);
  const [incoming] = await accepted;
  let sender: Duplex = incoming;
  let receiver: SecuredConnection;
  if (encrypted) {
    const infoHash = randomBytes(20);
    const skeys = new SkeyIndex();
    skeys.add(infoHash);
    const [out, inc] = await Promise.all([
      secureOutgoing(socket, { policy: 'require', infoHash, reads }),
      secureIncoming(incoming, { policy: 'require', lookup: skeys.lookup }),
    ]);
    receiver = out;
    sender = inc.stream;
  } else {
    receiver = await secureOutgoing(socket, { policy: 'off', infoHash: randomBytes(20), reads });
  }
  const block = randomBytes(256 * 1024);
  const started = process.cpuUsage();
  let received = 0;
  const done = new Promise<void>((resolve) => {
    receiver.readInto((data: Buffer) => {
      received += data.length;
      if (received >= GiB) resolve();
    });
  });
  for (let sent = 0; sent < GiB; sent += block.length) {
    if (!sender.write(block)) await once(sender, 'drain');
  }
  await done;
  const rate = perCpuSecond(GiB, started);
  sender.destroy();
  receiver.stream.destroy();
  server.close();
  return rate;
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const implementations: Implementation[] = opensslHasRc4() ? ['shoal', 'openssl'] : ['shoal'];
console.log(`node ${process.version}, RC4 implementations: ${implementations.join(', ')}`);
const rates = new Map<string, number[]>();
for (let round = 0; round < 3; round++) {
  for (const implementation of implementations) {
    for (const inPlace of [false, true]) {
      const name = `${implementation} ${inPlace ? 'updateInPlace' : 'update'}`;
      rates.set(name, [...(rates.get(name) ?? []), cipherRate(implementation, inPlace)]);
    }
  }
}
for (const [name, values] of rates) {
  console.log(
    `cipher ${name}: median ${median(values).toFixed(0)} MiB per CPU-s (${values.map((v) => v.toFixed(0)).join(', ')})`,
  );
}
const tcp = new Map<string, number[]>();
for (let round = 0; round < 3; round++) {
  for (const encrypted of [false, true]) {
    const name = encrypted ? 'MSE RC4 stream' : 'plain socket';
    tcp.set(name, [...(tcp.get(name) ?? []), await tcpRate(encrypted)]);
  }
}
for (const [name, values] of tcp) {
  console.log(
    `1 GiB over loopback TCP, ${name}: median ${median(values).toFixed(0)} MiB per CPU-s (${values.map((v) => v.toFixed(0)).join(', ')})`,
  );
}
