/**
 * transmission-daemon 3.00 (Debian's transmission-daemon) as a reference RPC
 * server, and transmission-remote (transmission-cli) as a reference RPC
 * client, for the RPC tests. Each daemon gets its own config directory (no
 * DHT, LPD, PEX, uTP, port mapping; peers and RPC on 127.0.0.1 only) and is
 * tracked by PID like every process a test starts.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll } from 'vitest';
import { spawnTracked, type Proc } from './cli.ts';
import { tempDir } from './files.ts';
import { startOnFreePorts } from './listening.ts';

export const TRANSMISSION_DAEMON = '/usr/bin/transmission-daemon';
export const TRANSMISSION_REMOTE = '/usr/bin/transmission-remote';

/** Fails the suite (never skips) when the programs are missing. */
export function requireTransmissionRpcTools(): void {
  beforeAll(() => {
    const missing = [TRANSMISSION_DAEMON, TRANSMISSION_REMOTE].filter((file) => !existsSync(file));
    if (missing.length > 0) {
      throw new Error(
        `${missing.join(', ')} not installed: install Debian's transmission-daemon and transmission-cli (scripts/install-test-peers.sh, which npm test runs)`,
      );
    }
  });
}

export interface TransmissionDaemon {
  proc: Proc;
  rpcPort: number;
  /** The RPC URL, without credentials. */
  url: string;
  downloadDir: string;
}

const SETTINGS = {
  'dht-enabled': false,
  'lpd-enabled': false,
  'pex-enabled': false,
  'utp-enabled': false,
  'port-forwarding-enabled': false,
  'blocklist-enabled': false,
  'bind-address-ipv4': '127.0.0.1',
  'bind-address-ipv6': '::1',
  'rpc-bind-address': '127.0.0.1',
  'rpc-whitelist': '127.0.0.1',
  'rpc-whitelist-enabled': true,
  'rpc-host-whitelist-enabled': true,
  'rename-partial-files': false,
  'message-level': 2,
};

/** Starts transmission-daemon in the foreground and resolves once its RPC port answers. */
export async function startTransmissionDaemon(
  options: { auth?: { username: string; password: string }; downloadDir?: string } = {},
): Promise<TransmissionDaemon> {
  const config = tempDir('shoal-tr-daemon-config-');
  const downloadDir = options.downloadDir ?? tempDir('shoal-tr-daemon-data-');
  await mkdir(downloadDir, { recursive: true });
  await writeFile(path.join(config, 'settings.json'), JSON.stringify(SETTINGS));
  const auth = options.auth
    ? ['-t', '-u', options.auth.username, '-v', options.auth.password]
    : ['-T'];
  // transmission-daemon cannot report its ports, and runs on when one was taken.
  const {
    proc,
    ports: [rpcPort],
  } = await startOnFreePorts(
    2,
    ([rpcPort, peerPort]) =>
      spawnTracked(
        'transmission-daemon',
        TRANSMISSION_DAEMON,
        [
          '-f',
          '-g',
          config,
          '-p',
          String(rpcPort),
          '-P',
          String(peerPort),
          '-w',
          downloadDir,
          '-O',
          '-Y',
          '-M',
          '--no-utp',
          '-a',
          '127.0.0.1',
          '-r',
          '127.0.0.1',
          ...auth,
        ],
        { timeoutMs: 300_000 },
      ),
    { failedBind: /Couldn't bind port|Unable to bind/, timeoutMs: 30_000 },
  );
  return { proc, rpcPort, url: `http://127.0.0.1:${rpcPort}/transmission/rpc`, downloadDir };
}

/** Runs transmission-remote against `host:port`; resolves with its output and exit code (bounded: 60 s). */
export function transmissionRemote(
  port: number,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TRANSMISSION_REMOTE,
      [`127.0.0.1:${port}`, ...args],
      { timeout: 60_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
