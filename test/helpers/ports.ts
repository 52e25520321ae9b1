/**
 * Ports on 127.0.0.1 for the processes a test starts.
 *
 * The rule (docs/TESTING.md, "Ports"): whatever can listen on port 0 and say
 * which port it took does so (node servers in the test process, shoal,
 * the python3-libtorrent helpers). `freePort()` is for programs that cannot
 * report their port (aria2c, transmission, opentracker) and for a port where
 * nothing must answer.
 *
 * A port found free and closed again is a race: until the child binds it,
 * anything may take it. The kernel hands every `listen(0)` and every outgoing
 * connection a port from the ephemeral range (ip_local_port_range), and the
 * suite's own processes listen on port 0 all the time, so a port from that
 * range is the likeliest to be taken. So `freePort()` hands out ports from a
 * block below that range which no one else draws from: each test process
 * (a vitest worker, of this run or of another run on the same machine) claims
 * a block of its own by listening on the block's claim port, and the kernel
 * releases the claim when the process exits, even after SIGKILL. Inside the
 * block a port is handed out once per process and only while no socket in
 * any state (listening, connected, TIME_WAIT) uses it; the search goes round
 * the block, so a port comes back only after every other one has.
 */
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/** Claim ports: a process owns block k while it listens on CLAIM_BASE + k. */
const CLAIM_BASE = 21_000;
const BLOCKS = 64;
const BLOCK_BASE = 21_100;
const BLOCK_SIZE = 150;

export interface PortBlock {
  first: number;
  last: number;
}

let claim: Promise<PortBlock> | undefined;
/** The search under way: one at a time, or two would start from the same cursor. */
let searches: Promise<unknown> = Promise.resolve();
/** Where the next search starts: just past the port handed out last. */
let cursor = -1;

/** The kernel's ephemeral range: what `listen(0)` and outgoing connections draw from. */
export function ephemeralRange(): PortBlock {
  try {
    const [first, last] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (first && last) return { first, last };
  } catch {
    // Not Linux: the suite runs on Linux; take Linux's default.
  }
  return { first: 32_768, last: 60_999 };
}

function listenTcp(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

async function tcpFree(port: number): Promise<boolean> {
  const server = await listenTcp(port);
  if (!server) return false;
  await new Promise((resolve) => server.close(resolve));
  return true;
}

/**
 * Local ports some socket of this network namespace uses, in any state. A
 * TIME_WAIT left by a child killed a moment ago lets node bind (it sets
 * SO_REUSEADDR) but can make a program that does not set it fail.
 */
function portsInUse(): Set<number> {
  const used = new Set<number>();
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local) used.add(Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16));
    }
  }
  return used;
}

async function claimBlock(): Promise<PortBlock> {
  const ephemeral = ephemeralRange();
  const top = BLOCK_BASE + BLOCKS * BLOCK_SIZE - 1;
  if (top >= ephemeral.first && CLAIM_BASE <= ephemeral.last) {
    throw new Error(
      `test ports ${CLAIM_BASE}-${top} overlap the ephemeral range ${ephemeral.first}-${ephemeral.last} (net.ipv4.ip_local_port_range): move them in test/helpers/ports.ts`,
    );
  }
  for (let k = 0; k < BLOCKS; k++) {
    const server = await listenTcp(CLAIM_BASE + k);
    if (!server) continue;
    // Held for the life of this process; it must not keep the process alive.
    server.unref();
    server.on('connection', (socket) => socket.destroy());
    return { first: BLOCK_BASE + k * BLOCK_SIZE, last: BLOCK_BASE + (k + 1) * BLOCK_SIZE - 1 };
  }
  throw new Error(
    `all ${BLOCKS} test port blocks are claimed (ports ${CLAIM_BASE}-${CLAIM_BASE + BLOCKS - 1} in use): too many test processes at once`,
  );
}

/** The block of ports this process hands out (claimed on first use). */
export function portBlock(): Promise<PortBlock> {
  claim ??= claimBlock();
  return claim;
}

/**
 * A port of this process's block, free right now for TCP (and UDP with
 * `udp`: trackers and libtorrent listen on both). The search resumes past
 * the port handed out last, so two calls in a row never return the same
 * port even before either is bound. No other test process draws from the block.
 */
export function freePort(options: { udp?: boolean } = {}): Promise<number> {
  const next = searches.then(() => searchBlock(options.udp ?? false));
  searches = next.catch(() => {});
  return next;
}

async function searchBlock(udp: boolean): Promise<number> {
  const block = await portBlock();
  const size = block.last - block.first + 1;
  // Start anywhere in the block: a test file after another on the same block (a new worker
  // once the last exited) then rarely meets the ports its predecessor's children just left.
  if (cursor < 0) cursor = Math.floor(Math.random() * size);
  const used = portsInUse();
  for (let tried = 0; tried < size; tried++) {
    const port = block.first + ((cursor + tried) % size);
    if (used.has(port)) continue;
    if (!(await tcpFree(port))) continue;
    if (udp && !(await udpFree(port))) continue;
    cursor = (cursor + tried + 1) % size;
    return port;
  }
  throw new Error(`no free port left in ${block.first}-${block.last} on 127.0.0.1`);
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForTcp(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
