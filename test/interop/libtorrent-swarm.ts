/**
 * Loopback swarms of python3-libtorrent peers for the DHT, PEX and
 * fast-extension interop tests: peers started with any of
 * test/helpers/libtorrent_peer.py's options, and a small private DHT of
 * libtorrent nodes.
 *
 * libtorrent's DHT on one address needs care (see the script): every node
 * joins through the first one, and libtorrent never puts the node it
 * bootstrapped from into its routing table, so only that first node knows
 * everyone. Outsiders (shoal, a downloader) therefore join through it too.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTracked, type Proc } from '../helpers/cli.ts';
import { SYSTEM_PYTHON } from '../helpers/peers.ts';

const script = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'helpers',
  'libtorrent_peer.py',
);

export interface LtPeer {
  proc: Proc;
  port: number;
  /** `127.0.0.1:port`: its TCP listener and, with a DHT, its DHT node (UDP). */
  address: string;
}

/** Bounded: libtorrent's UDP socket misses the TCP one's port only when that port is taken for UDP. */
const START_ATTEMPTS = 3;

/**
 * Starts libtorrent_peer.py with `args` (mode first) on a port libtorrent picks
 * (port 0: a port found free first could be taken before it binds) and
 * resolves once it listens on one port for TCP and UDP (the DHT shares it).
 * libtorrent puts its UDP socket on the TCP one's port unless that is taken
 * for UDP; then this peer is stopped and another started, at most three
 * times: the fixture's start-up, not a test retry.
 */
export async function startLt(args: string[], timeoutS = 80): Promise<LtPeer> {
  for (let attempt = 1; ; attempt++) {
    const proc = spawnTracked(
      `libtorrent ${args[0]}`,
      SYSTEM_PYTHON,
      [script, ...args, '--port', '0', '--timeout', String(timeoutS)],
      { timeoutMs: (timeoutS + 10) * 1000 },
    );
    const [, tcp] = await proc.waitFor(/LISTENING (\d+)/, 20_000, 'stdout');
    const [, udp] = await proc.waitFor(/LISTENING_UDP (\d+)/, 20_000, 'stdout');
    const port = Number(tcp);
    if (udp === tcp) return { proc, port, address: `127.0.0.1:${port}` };
    proc.kill();
    await proc.exited;
    if (attempt === START_ATTEMPTS) {
      throw new Error(`libtorrent never listened on one port for TCP and UDP\n${proc.describe()}`);
    }
  }
}

/** A private DHT of `count` libtorrent nodes (three at least: see above); `entry` is the one to join through. */
export async function startLtDht(count = 3): Promise<{ entry: string; nodes: LtPeer[] }> {
  const first = await startLt(['dht-node']);
  const others = await Promise.all(
    Array.from({ length: count - 1 }, () =>
      startLt(['dht-node', '--dht-bootstrap', first.address]),
    ),
  );
  return { entry: first.address, nodes: [first, ...others] };
}

/** Everything the processes printed, for failure messages. */
export function describeAll(...procs: (Proc | { proc: Proc })[]): string {
  return procs.map((p) => ('proc' in p ? p.proc : p).describe()).join('\n');
}
