/**
 * uTP throughput: `node_modules/.bin/node bench/utp.ts [--mib 256] [--relay-mib 16] [--runs 3] [--seed 1]`.
 *
 * - loopback: MiB/s of one connection carrying --mib MiB, over UtpConnection
 *   and over net.Socket (TCP) for comparison, both on 127.0.0.1 in this process;
 * - lossy: --relay-mib MiB over uTP through the test relay with 1% loss and
 *   20 ms one-way delay (the kernel here has no netem), seconds to complete.
 *
 * Data is a repeated random 1 MiB block; the receiver hashes nothing and only
 * counts bytes (the cost measured is the transport's). Prints a markdown table
 * on stdout (medians of --runs). Not part of bench/run.ts.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { parseArgs } from 'node:util';
import { UtpSocket } from '../src/core/transport/utp/socket.ts';
import type { UtpConnection } from '../src/core/transport/utp/connection.ts';
import { startUdpRelay } from '../test/helpers/udp-relay.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    'relay-mib': { type: 'string', default: '16' },
    runs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
  },
});
const MIB = 1024 * 1024;
const block = randomBytes(MIB);

/** Writes `total` bytes with backpressure, ends; resolves when the reader counted them all. */
async function transfer(writer: Duplex, reader: Duplex, total: number): Promise<number> {
  const started = performance.now();
  const received = new Promise<void>((resolve, reject) => {
    let count = 0;
    reader.on('data', (chunk: Buffer) => {
      count += chunk.length;
      if (count >= total) resolve();
    });
    reader.once('error', reject);
  });
  for (let sent = 0; sent < total; sent += MIB) {
    if (!writer.write(block)) await once(writer, 'drain');
  }
  writer.end();
  await received;
  return (performance.now() - started) / 1000;
}

async function overUtp(
  totalBytes: number,
  relay?: { lossRate: number; delayMs: number },
): Promise<number> {
  const listener = await UtpSocket.listen();
  const dialer = await UtpSocket.listen();
  const path = relay
    ? await startUdpRelay({
        target: { host: '127.0.0.1', port: listener.port },
        ...relay,
        seed: Number(values.seed),
      })
    : undefined;
  try {
    const accepted = once(listener, 'connection') as Promise<[UtpConnection]>;
    const client = await dialer.connect('127.0.0.1', path?.port ?? listener.port, {
      timeoutMs: 30_000,
    });
    client.write(Buffer.alloc(1));
    const [server] = await accepted;
    server.read(0);
    return await transfer(client, server, totalBytes + 1);
  } finally {
    await path?.close();
    await dialer.close();
    await listener.close();
  }
}

async function overTcp(totalBytes: number): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const accepted = once(server, 'connection') as Promise<[net.Socket]>;
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await once(client, 'connect');
    const [socket] = await accepted;
    const seconds = await transfer(client, socket, totalBytes);
    client.destroy();
    socket.destroy();
    return seconds;
  } finally {
    server.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function measure(label: string, runs: number, once: () => Promise<number>): Promise<number> {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    times.push(await once());
    process.stderr.write(`${label}: run ${run + 1}: ${times.at(-1)!.toFixed(2)} s\n`);
  }
  return median(times);
}

const runs = Number(values.runs);
const mib = Number(values.mib);
const relayMib = Number(values['relay-mib']);
const tcp = await measure('tcp loopback', runs, () => overTcp(mib * MIB));
const utp = await measure('utp loopback', runs, () => overUtp(mib * MIB));
const lossy = await measure('utp 1% loss 20 ms', runs, () =>
  overUtp(relayMib * MIB, { lossRate: 0.01, delayMs: 20 }),
);

console.log(`| transport | data | median time | MiB/s |`);
console.log(`|---|---:|---:|---:|`);
console.log(
  `| net.Socket (TCP), loopback | ${mib} MiB | ${tcp.toFixed(2)} s | ${(mib / tcp).toFixed(1)} |`,
);
console.log(
  `| UtpConnection, loopback | ${mib} MiB | ${utp.toFixed(2)} s | ${(mib / utp).toFixed(1)} |`,
);
console.log(
  `| UtpConnection, relay 1% loss 20 ms | ${relayMib} MiB | ${lossy.toFixed(2)} s | ${(relayMib / lossy).toFixed(2)} |`,
);
console.log(`\n${runs} runs each, median; node ${process.version}, relay seed ${values.seed}`);
