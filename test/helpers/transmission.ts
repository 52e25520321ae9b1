/**
 * Launchers for Transmission 3.00 (Debian's transmission-cli), a third client
 * others wrote, on 127.0.0.1 and tracked like shoal processes (killed by PID
 * after each test).
 *
 * transmission-cli has no option to dial a peer, and Transmission drops
 * 127.x addresses learned from trackers, PEX or magnets and keeps one peer per
 * IP. So every test has shoal dial the listening transmission-cli
 * (`download --peer`, `seed --peer`). Each instance gets its own config
 * directory whose settings.json keeps it on loopback: no DHT, local peer
 * discovery, PEX, uTP, port mapping, RPC or blocklist, listening on
 * 127.0.0.1 and ::1 only. Encryption stays at its default, "preferred",
 * which accepts the plaintext handshakes shoal makes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll } from 'vitest';
import { spawnTracked, type Proc } from './cli.ts';
import { tempDir } from './files.ts';
import { startOnFreePort } from './listening.ts';

export const TRANSMISSION_CLI = '/usr/bin/transmission-cli';
export const TRANSMISSION_CREATE = '/usr/bin/transmission-create';
export const TRANSMISSION_SHOW = '/usr/bin/transmission-show';

/**
 * Makes the enclosing suite fail, saying how to install it, when Transmission's
 * programs are missing. Never a skip: passing without them would claim what
 * was not proved.
 */
export function requireTransmission(): void {
  beforeAll(() => {
    const missing = [TRANSMISSION_CLI, TRANSMISSION_CREATE, TRANSMISSION_SHOW].filter(
      (file) => !existsSync(file),
    );
    if (missing.length > 0) {
      throw new Error(
        `${missing.join(', ')} not installed: install Debian's transmission-cli (scripts/install-test-peers.sh, which npm test runs)`,
      );
    }
  });
}

/** Settings that keep transmission on loopback and off every discovery network. */
const LOOPBACK_SETTINGS = {
  'dht-enabled': false,
  'lpd-enabled': false,
  'pex-enabled': false,
  'utp-enabled': false,
  'port-forwarding-enabled': false,
  'rpc-enabled': false,
  'blocklist-enabled': false,
  'bind-address-ipv4': '127.0.0.1',
  'bind-address-ipv6': '::1',
  // Complete files keep their names from the start (no ".part" to rename).
  'rename-partial-files': false,
  // 0 none, 1 errors, 2 info: enough on stderr to explain a failure.
  'message-level': 2,
};

export interface TransmissionPeer {
  proc: Proc;
  /** Its listening port on 127.0.0.1, for shoal's `--peer`. */
  port: number;
}

/**
 * transmission-cli seeding `torrent` from `dir` (the directory holding the
 * torrent's top-level file or folder). A torrent new to its (fresh) config
 * directory is verified on adding; this resolves once it reports "Seeding",
 * i.e. every piece checked out, and listens; it seeds until killed. Not `-v`:
 * that queues a second verify, and transmission-cli exits when its 200 ms
 * poll catches the torrent stopped between the two (seen in CI: "Removing
 * torrent" 0.2 s after start, no "Seeding").
 */
export async function startTransmissionSeeder(
  torrent: string,
  dir: string,
  extra: string[] = [],
): Promise<TransmissionPeer> {
  const peer = await startTransmission('transmission seed', torrent, dir, extra);
  await peer.proc.waitFor(/Seeding/, 60_000, 'stdout');
  return peer;
}

/**
 * transmission-cli downloading `torrent` into `dir`, resolved once it
 * listens. `finished` resolves when it reports "Seeding" (all pieces
 * downloaded and verified), after which it is stopped with SIGTERM so that it
 * closes its files and exits.
 */
export async function startTransmissionLeecher(
  torrent: string,
  dir: string,
  extra: string[] = [],
): Promise<TransmissionPeer & { finished(timeoutMs: number): Promise<void> }> {
  await mkdir(dir, { recursive: true });
  const peer = await startTransmission('transmission download', torrent, dir, extra);
  return {
    ...peer,
    async finished(timeoutMs) {
      await peer.proc.waitFor(/Seeding/, timeoutMs, 'stdout');
      peer.proc.kill('SIGTERM');
      const result = await peer.proc.wait(20_000);
      if (result.timedOut) throw new Error(`transmission did not stop\n${peer.proc.describe()}`);
    },
  };
}

async function startTransmission(
  name: string,
  torrent: string,
  dir: string,
  extra: string[],
): Promise<TransmissionPeer> {
  const config = tempDir('shoal-transmission-config-');
  await writeFile(path.join(config, 'settings.json'), JSON.stringify(LOOPBACK_SETTINGS));
  // Transmission runs on without listening when its port was taken: Couldn't bind port.
  return startOnFreePort(
    (port) =>
      spawnTracked(
        name,
        TRANSMISSION_CLI,
        ['-g', config, '-p', String(port), '-w', dir, '-ep', ...extra, torrent],
        { cwd: dir, timeoutMs: 180_000 },
      ),
    { failedBind: /Couldn't bind port/ },
  );
}

/** `transmission-create` of `input` into `out` (no trackers: it warns, and that is fine). */
export function transmissionCreate(input: string, out: string): void {
  execFileSync(TRANSMISSION_CREATE, ['-o', out, input], { stdio: 'pipe' });
}

/** What transmission-show reads from a .torrent: its info-hash, piece count and file list. */
export function transmissionShow(torrent: string): {
  infoHash: string;
  pieceCount: number;
  files: string[];
} {
  const text = execFileSync(TRANSMISSION_SHOW, [torrent], { encoding: 'utf8' });
  const field = (label: string) => {
    const match = text.match(new RegExp(`^\\s*${label}: (.*)$`, 'm'));
    if (!match) throw new Error(`transmission-show printed no ${label}:\n${text}`);
    return match[1];
  };
  const files = text
    .slice(text.indexOf('\nFILES\n'))
    .split('\n')
    .map((line) => line.match(/^\s+(.+) \([^)]*\)$/)?.[1])
    .filter((file): file is string => file !== undefined);
  return { infoHash: field('Hash'), pieceCount: Number(field('Piece Count')), files };
}
