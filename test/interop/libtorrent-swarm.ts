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
import { freePort } from '../helpers/ports.ts';
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

/**
 * Starts libtorrent_peer.py with `args` (mode first) on a free port (free for
 * UDP too: the DHT shares it) and resolves once it listens.
 */
export async function startLt(args: string[], timeoutS = 80): Promise<LtPeer> {
  const port = await freePort({ udp: true });
  const proc = spawnTracked(
    `libtorrent ${args[0]}`,
    SYSTEM_PYTHON,
    [script, ...args, '--port', String(port), '--timeout', String(timeoutS)],
    { timeoutMs: (timeoutS + 10) * 1000 },
  );
  await proc.waitFor(/LISTENING \d+/, 20_000, 'stdout');
  return { proc, port, address: `127.0.0.1:${port}` };
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
