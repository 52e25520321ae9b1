/**
 * Launchers for the real peers of interop tests (DESIGN.md §5): a
 * python3-libtorrent peer, aria2c and opentracker, all on 127.0.0.1 and
 * tracked like shoal processes (killed by PID after each test).
 *
 * `requirePeers` makes a suite fail, with the reason, when a program it
 * drives is missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll } from 'vitest';
import { fileURLToPath } from 'node:url';
import { spawnTracked, type Proc } from './cli.ts';
import { startOnFreePort } from './listening.ts';
import { tempDir } from './files.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** python3-libtorrent is installed for the system Python only (not the first python3 on PATH). */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const ARIA2C = '/usr/bin/aria2c';
export const OPENTRACKER = '/usr/bin/opentracker';

function hasLibtorrent(): boolean {
  try {
    execFileSync(SYSTEM_PYTHON, ['-c', 'import libtorrent'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export const TMUX = '/usr/bin/tmux';

const tools = {
  libtorrent: () => existsSync(SYSTEM_PYTHON) && hasLibtorrent(),
  aria2c: () => existsSync(ARIA2C),
  opentracker: () => existsSync(OPENTRACKER),
  tmux: () => existsSync(TMUX),
};

/**
 * Declares that the tests of the enclosing suite drive `names`: when one is
 * missing they fail, saying how to install it. Never a skip: a suite that
 * passes with its interop tests left out would claim what it did not prove.
 * (`npm test` installs them first: scripts/install-test-peers.sh.)
 */
export function requirePeers(...names: (keyof typeof tools)[]): void {
  beforeAll(() => assertInstalled(...names));
}

/** Throws, saying how to install them, unless every one of `names` is installed. */
export function assertInstalled(...names: (keyof typeof tools)[]): void {
  const missing = names.filter((name) => !tools[name]());
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} not installed: run scripts/install-test-peers.sh (npm test runs it)`,
    );
  }
}

export interface LibtorrentPeer {
  proc: Proc;
  port: number;
}

/**
 * Starts a libtorrent peer. Seeders resolve once the data is checked and
 * they are seeding; downloaders once they listen (await `proc.wait()` for the end).
 */
export async function startLibtorrent(options: {
  mode: 'seed' | 'download';
  torrent: string;
  save: string;
  peers?: string[];
  timeoutS?: number;
}): Promise<LibtorrentPeer> {
  const args = [
    path.join(here, 'libtorrent_peer.py'),
    options.mode,
    '--torrent',
    options.torrent,
    '--save',
    options.save,
    // Port 0 and the port libtorrent names (its UDP socket takes the TCP one's): a port found
    // free first could be taken by another test's process before libtorrent binds it.
    '--port',
    '0',
    '--timeout',
    String(options.timeoutS ?? 90),
  ];
  for (const peer of options.peers ?? []) args.push('--peer', peer);
  const proc = spawnTracked(`libtorrent ${options.mode}`, SYSTEM_PYTHON, args, {
    timeoutMs: ((options.timeoutS ?? 90) + 10) * 1000,
  });
  const listening = await proc.waitFor(/LISTENING (\d+)/, 20_000, 'stdout');
  if (options.mode === 'seed') await proc.waitFor(/SEEDING/, 30_000, 'stdout');
  return { proc, port: Number(listening[1]) };
}

const ARIA2_COMMON = [
  '--enable-dht=false',
  '--enable-dht6=false',
  '--bt-enable-lpd=false',
  '--enable-peer-exchange=false',
  '--file-allocation=none',
  '--summary-interval=1',
  '--console-log-level=warn',
  '--auto-save-interval=0',
  '--no-conf=true',
  '--bt-stop-timeout=0',
];

/**
 * aria2c with `args`, run in `dir`, once it listens. It cannot report its port,
 * and runs on without listening when the port was taken: startOnFreePort.
 */
function startAria2(
  name: string,
  dir: string,
  args: string[],
): Promise<{ proc: Proc; port: number }> {
  return startOnFreePort(
    (port) =>
      spawnTracked(name, ARIA2C, [...ARIA2_COMMON, `--listen-port=${port}`, ...args], {
        cwd: dir,
        timeoutMs: 120_000,
      }),
    { timeoutMs: 20_000 },
  );
}

/**
 * aria2c seeding `torrent` from `dir`: it hashes the data first (-V) and seeds
 * without a time or ratio limit (--seed-ratio=0.0) until killed.
 */
export function startAria2Seeder(
  torrent: string,
  dir: string,
  extra: string[] = [],
): Promise<{ proc: Proc; port: number }> {
  const args = ['--check-integrity=true', '--seed-ratio=0.0', `--dir=${dir}`, ...extra, torrent];
  return startAria2('aria2c seed', dir, args);
}

/**
 * aria2c downloading `torrent` into `dir`, exiting when complete
 * (--seed-time=0). It has no option to dial a peer: it learns peers from
 * trackers, or is dialled (listening on the returned port).
 */
export async function startAria2Leecher(
  torrent: string,
  dir: string,
  extra: string[] = [],
): Promise<{ proc: Proc; port: number }> {
  await mkdir(dir, { recursive: true });
  return startAria2('aria2c download', dir, ['--seed-time=0', `--dir=${dir}`, ...extra, torrent]);
}

/**
 * opentracker on 127.0.0.1 (HTTP and UDP on one port), serving only the given
 * info-hashes (Debian's build needs a whitelist). Resolves once it answers
 * announces for them (it loads the whitelist in the background).
 */
export async function startOpentracker(
  infoHashes: string[],
): Promise<{ proc: Proc; port: number; url: string; udpUrl: string }> {
  const dir = tempDir('shoal-opentracker-');
  // Run as root, opentracker chroots into -d and drops to nobody before reading the whitelist.
  await chmod(dir, 0o755);
  await writeFile(path.join(dir, 'whitelist'), infoHashes.map((h) => `${h}\n`).join(''), {
    mode: 0o644,
  });
  const whitelist = process.getuid?.() === 0 ? '/whitelist' : path.join(dir, 'whitelist');
  // opentracker cannot report its port; it exits saying so when the port was taken.
  const { proc, port } = await startOnFreePort(
    (port) =>
      spawnTracked(
        'opentracker',
        OPENTRACKER,
        ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-w', whitelist],
        { cwd: dir },
      ),
    { udp: true, failedBind: /Address already in use/, timeoutMs: 10_000 },
  );
  const url = `http://127.0.0.1:${port}/announce`;
  // Probe until the whitelist is loaded: until then every hash is refused with a failure
  // reason. A `stopped` is answered without that check, so probe with a plain announce
  // and take the probe peer out of the swarm again afterwards.
  const probe = infoHashes[0];
  const query = (event: string) =>
    `info_hash=${escapeBytes(probe)}&peer_id=${escapeBytes('00'.repeat(20))}&port=9&uploaded=0&downloaded=0&left=1&compact=1${event}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const body = await fetch(`${url}?${query('')}`).then(
      (r) => r.text(),
      () => '',
    );
    if (body.startsWith('d') && !body.includes('failure reason')) break;
    if (Date.now() > deadline) throw new Error(`opentracker never accepted ${probe}: ${body}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await fetch(`${url}?${query('&event=stopped')}`).then((r) => r.text());
  return { proc, port, url, udpUrl: `udp://127.0.0.1:${port}/announce` };
}

function escapeBytes(hex: string): string {
  return hex.replace(/../g, (byte) => `%${byte}`);
}
