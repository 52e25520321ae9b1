/**
 * A UDP relay that behaves like a bad network, for transports over UDP (uTP):
 * the kernel here has no netem, so this sits between two endpoints on
 * 127.0.0.1 and drops, delays and reorders datagrams, both ways.
 *
 * Every random choice comes from one seeded PRNG (test/helpers/random.ts), so
 * a failing run replays with the same seed (given the same packet order).
 *
 *   client  ->  relay.port  ->  (one upstream socket per client)  ->  target
 */
import dgram from 'node:dgram';
import { seededRandom } from './random.ts';

export interface RelayOptions {
  target: { host: string; port: number };
  /** Probability in [0, 1) that a datagram is dropped. */
  lossRate?: number;
  /** Fixed one-way delay, ms. */
  delayMs?: number;
  /** Extra random delay in [0, jitterMs), ms: datagrams overtake one another (reordering). */
  jitterMs?: number;
  seed: number;
}

export interface RelayStats {
  forwarded: number;
  dropped: number;
}

export interface UdpRelay {
  /** Where clients send (127.0.0.1). */
  port: number;
  stats: RelayStats;
  close(): Promise<void>;
}

export async function startUdpRelay(options: RelayOptions): Promise<UdpRelay> {
  const random = seededRandom(options.seed);
  const stats: RelayStats = { forwarded: 0, dropped: 0 };
  const timers = new Set<NodeJS.Timeout>();
  const upstreams = new Map<string, dgram.Socket>();
  let closed = false;

  /** Forwards `message` through `socket` to host:port, or drops it, as the dice say. */
  const forward = (socket: dgram.Socket, message: Buffer, port: number, host: string) => {
    if (random() < (options.lossRate ?? 0)) {
      stats.dropped++;
      return;
    }
    const delay = (options.delayMs ?? 0) + random() * (options.jitterMs ?? 0);
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (closed) return;
      stats.forwarded++;
      socket.send(message, port, host, () => {});
    }, delay);
    timers.add(timer);
  };

  const front = dgram.createSocket('udp4');
  front.on('message', (message, client) => {
    const id = `${client.address}:${client.port}`;
    let upstream = upstreams.get(id);
    if (!upstream) {
      upstream = dgram.createSocket('udp4');
      upstream.on('message', (reply) => forward(front, reply, client.port, client.address));
      upstream.on('error', () => {});
      upstream.bind(0, '127.0.0.1');
      upstreams.set(id, upstream);
    }
    forward(upstream, message, options.target.port, options.target.host);
  });
  front.on('error', () => {});
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', () => resolve()));

  return {
    port: front.address().port,
    stats,
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      const sockets = [front, ...upstreams.values()];
      await Promise.all(
        sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))),
      );
    },
  };
}
