import type { Interfaces } from '@oclif/core';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { isSea } from 'node:sea';
import { DaemonBackend } from '../core/daemon/daemon-backend.ts';
import { TorrentManager } from '../core/daemon/torrent-manager.ts';
import { WatchDir } from '../core/daemon/watch-dir.ts';
import { ExitCode, InputError, UsageError } from '../core/errors.ts';
import { refuseOpenWithoutCredentials, RpcServer } from '../core/rpc/server.ts';
import { makeDirectoryOrRefuse } from '../core/storage/out-dir.ts';
import type { EncryptionPolicy } from '../core/transport/mse/policy.ts';
import { parseDhtNode } from './flags.ts';
import packageJson from '../../package.json' with { type: 'json' };
import type Daemon from './daemon.ts';

type DaemonFlags = Interfaces.InferredFlags<typeof Daemon.flags>;

/** Set in the background child that --detach starts. */
const DETACHED_ENV = 'SHOAL_DAEMON_DETACHED';

/** What `shoal daemon` does (the flags and help live in daemon.ts). */
export async function daemon(flags: DaemonFlags): Promise<void> {
  const credentials = readCredentials(flags);
  refuseOpenWithoutCredentials(flags['rpc-bind'], credentials);
  if (flags.detach && process.env[DETACHED_ENV] !== '1') return await detach(flags);

  const output = logger(flags.log);
  const log = output.log;
  const downloadDir = path.resolve(flags['download-dir'] ?? path.join(homedir(), 'Downloads'));
  const stateDir = path.resolve(flags['state-dir'] ?? defaultStateDir());
  const watchDir = flags.watch ? path.resolve(flags.watch) : null;
  const dhtBootstrap = (flags['dht-bootstrap'] ?? []).map((text) => parseDhtNode(text));
  for (const dir of watchDir ? [downloadDir, watchDir] : [downloadDir]) makeDirectoryOrRefuse(dir);

  const manager = await TorrentManager.open({
    stateDir,
    downloadDir,
    port: flags.port,
    // As for download: SHOAL_NO_DHT=1 changes the default, --dht-bootstrap still asks for a DHT.
    dht: flags.dht && (dhtBootstrap.length > 0 || process.env.SHOAL_NO_DHT !== '1'),
    dhtBootstrap: dhtBootstrap.length > 0 ? dhtBootstrap : undefined,
    threads: flags.threads,
    encryption: flags.encryption as EncryptionPolicy | undefined,
    version: packageJson.version,
  });
  manager.on('log', log);
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let server: RpcServer | null = null;
  let watcher: WatchDir | null = null;
  const stopSignals = handleDaemonSignals(stop, () => void manager.reload(), log);
  try {
    server = await RpcServer.start({
      backend: new DaemonBackend(manager, stop),
      host: flags['rpc-bind'],
      port: flags['rpc-port'],
      credentials,
      allowedHosts: flags['rpc-host'] ?? [],
      allowedCallers: ['127.0.0.1', '::1', ...(flags['rpc-allow'] ?? []).flatMap(splitList)],
      downloadRoots: [downloadDir],
      torrentFolders: watchDir ? [watchDir] : [],
    });
    if (watchDir) {
      watcher = new WatchDir({
        dir: watchDir,
        add: async (bytes) => void (await manager.add({ metainfo: bytes })),
        log,
      });
      watcher.start();
    }
    if (flags['pid-file']) await writeFile(flags['pid-file'], `${process.pid}\n`);
    const host = flags['rpc-bind'].includes(':') ? `[${flags['rpc-bind']}]` : flags['rpc-bind'];
    log(
      `shoal daemon ${packageJson.version}: RPC on http://${host}:${server.port}/transmission/rpc, peers on port ${manager.port}, ${manager.list().length} torrents, state in ${stateDir}`,
    );
    // The --detach parent waits for this before it returns.
    if (process.env[DETACHED_ENV] === '1' && process.send) {
      process.send({ ready: true, pid: process.pid });
      process.disconnect?.();
      output.detached();
    }
    await stopped;
    log('stopping: saving state');
  } finally {
    stopSignals();
    await watcher?.stop();
    await server?.close();
    await manager.close();
    if (flags['pid-file']) await rm(flags['pid-file'], { force: true });
  }
  log('stopped');
}

/** `$XDG_STATE_HOME/shoal`, or `~/.local/state/shoal`. */
function defaultStateDir(): string {
  const xdg = process.env.XDG_STATE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(homedir(), '.local', 'state');
  return path.join(base, 'shoal');
}

function readCredentials(flags: DaemonFlags): { username: string; password: string } | undefined {
  if (flags['rpc-auth'] && flags['rpc-auth-file'])
    throw new UsageError('--rpc-auth and --rpc-auth-file exclude each other: pick one');
  let text = flags['rpc-auth'];
  const what = text === undefined ? `--rpc-auth-file ${flags['rpc-auth-file']}` : '--rpc-auth';
  if (flags['rpc-auth-file']) {
    try {
      text = readFileSync(flags['rpc-auth-file'], 'utf8').split('\n')[0].trim();
    } catch (error) {
      throw new InputError(
        `cannot read --rpc-auth-file ${flags['rpc-auth-file']}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  if (text === undefined) return undefined;
  const colon = text.indexOf(':');
  if (colon < 1 || colon === text.length - 1)
    throw new UsageError(`${what} must be USER:PASS with neither empty`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/**
 * Log lines with a timestamp, appended to `file` or on stderr. A detached
 * daemon's stderr is a pipe to the parent that started it, gone once it has
 * started: `detached()` stops writing there.
 */
function logger(file: string | undefined): { log(line: string): void; detached(): void } {
  let stderr = true;
  return {
    log(line) {
      const text = `${new Date().toISOString()} ${line}\n`;
      if (file) appendFileSync(file, text);
      else if (stderr) process.stderr.write(text);
    },
    detached() {
      stderr = false;
      process.stderr.on('error', () => {});
    },
  };
}

/**
 * SIGTERM/SIGINT stop cleanly (a second one exits at once); SIGHUP reloads
 * settings. Returns a function that removes the handlers.
 */
function handleDaemonSignals(
  stop: () => void,
  reload: () => void,
  log: (line: string) => void,
): () => void {
  let stopping = false;
  const onStop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(ExitCode.interrupted);
    stopping = true;
    log(`${signal}: stopping (send it again to quit at once)`);
    stop();
  };
  const onHup = () => {
    log('SIGHUP: reloading settings');
    reload();
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onHup);
  return () => {
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    process.off('SIGHUP', onHup);
  };
}

/**
 * --detach: the same command again without a terminal, in its own session;
 * returns once it reports it is serving (its PID on stdout), or fails with
 * what it printed when it exits first.
 */
async function detach(flags: DaemonFlags): Promise<void> {
  const args = (
    isSea() ? process.argv.slice(2) : [...process.execArgv, ...process.argv.slice(1)]
  ).filter((arg) => arg !== '--detach');
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, [DETACHED_ENV]: '1' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('message', (message: { pid?: number }) => resolve(message.pid ?? child.pid!));
    child.once('exit', (code) =>
      reject(
        new UsageError(
          (stderr.trim().split('\n').at(-1) ?? '').replace(/^shoal: error: /, '') ||
            `the daemon exited with code ${code} before it started`,
        ),
      ),
    );
  });
  // From here the child is on its own: no pipe may keep it (or us) waiting.
  child.stderr?.destroy();
  child.disconnect?.();
  child.unref();
  process.stdout.write(`${pid}\n`);
  if (!flags.log)
    process.stderr.write(`shoal daemon running as PID ${pid} (no --log: its log is discarded)\n`);
}
