/**
 * Starting a program that cannot report the port it listens on (aria2c,
 * transmission, opentracker) on a port from freePort(), and knowing it is that
 * program, not another, that listens there.
 *
 * A probe that connects would be answered by whatever holds the port, and to
 * Transmission a probe is an extra peer from 127.0.0.1 that it then refuses
 * to take again while still handshaking with it. So the sockets are read
 * instead: the port's listening sockets in /proc/net/*, matched by inode
 * against the process's own file descriptors in /proc/PID/fd.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import type { Proc } from './cli.ts';
import { freePort } from './ports.ts';

/** TCP LISTEN, and an unconnected UDP socket (what a bound UDP server shows), in /proc/net/*. */
const LISTEN = { tcp: '0A', udp: '07' } as const;

type Protocol = keyof typeof LISTEN;

type StartOptions = { udp?: boolean; failedBind?: RegExp; timeoutMs?: number };

async function socketInodes(protocol: Protocol, port: number): Promise<Set<string>> {
  const portHex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const tables = await Promise.all(
    [protocol, `${protocol}6`].map((file) => readFile(`/proc/net/${file}`, 'utf8').catch(() => '')),
  );
  const inodes = new Set<string>();
  for (const line of tables.join('\n').split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(portHex) && fields[3] === LISTEN[protocol]) inodes.add(fields[9]!);
  }
  return inodes;
}

async function ownSocketInodes(pid: number): Promise<Set<string>> {
  const fdDir = `/proc/${pid}/fd`;
  const links = await readdir(fdDir).then(
    (fds) => Promise.all(fds.map((fd) => readlink(path.join(fdDir, fd)).catch(() => ''))),
    () => [] as string[],
  );
  return new Set(links.map((link) => link.match(/^socket:\[(\d+)\]$/)?.[1] ?? ''));
}

/**
 * Whether `proc` itself comes to listen on `port` (TCP, and UDP too with
 * `udp`) within `timeoutMs`. False when its output matches `failedBind` or the
 * time runs out; throws, with what it printed, when it exits first.
 */
export async function listensOn(
  proc: Proc,
  port: number,
  options: StartOptions = {},
): Promise<boolean> {
  const protocols: Protocol[] = options.udp ? ['tcp', 'udp'] : ['tcp'];
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    // A program may say it could not bind and exit: that is a taken port, not a crash.
    if (options.failedBind?.test(`${proc.stdout}\n${proc.stderr}`)) return false;
    if (!proc.running) throw new Error(`${proc.name} exited\n${proc.describe()}`);
    const own = await ownSocketInodes(proc.pid);
    const found = await Promise.all(
      protocols.map(async (protocol) =>
        [...(await socketInodes(protocol, port))].some((inode) => own.has(inode)),
      ),
    );
    if (found.every(Boolean)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** Bounded: a port fails to bind only when something outside the suite took it (see ports.ts). */
const ATTEMPTS = 3;

/**
 * Starts `start(ports)` on `count` ports from freePort() and resolves once the
 * process itself listens on every one. When it does not (a port was taken
 * after it was found free), that process is killed and another is started on
 * new ports, at most three times. This is the fixture starting its program,
 * not a test being retried: nothing of the test has run yet. The last
 * failure's output is in the error.
 */
export async function startOnFreePorts(
  count: number,
  start: (ports: number[]) => Proc,
  options: StartOptions = {},
): Promise<{ proc: Proc; ports: number[] }> {
  for (let attempt = 1; ; attempt++) {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) ports.push(await freePort({ udp: options.udp }));
    const proc = start(ports);
    let listening = true;
    for (const port of ports) {
      if (!(await listensOn(proc, port, options))) {
        listening = false;
        break;
      }
    }
    if (listening) return { proc, ports };
    proc.kill();
    await proc.exited.catch(() => {});
    if (attempt === ATTEMPTS) {
      throw new Error(
        `${proc.name} did not listen on 127.0.0.1 port ${ports.join(', ')} (${ATTEMPTS} tries, new ports each)\n${proc.describe()}`,
      );
    }
  }
}

/** startOnFreePorts for a program with one port. */
export async function startOnFreePort(
  start: (port: number) => Proc,
  options: StartOptions = {},
): Promise<{ proc: Proc; port: number }> {
  const { proc, ports } = await startOnFreePorts(1, ([port]) => start(port!), options);
  return { proc, port: ports[0]! };
}
