/**
 * Building blocks for loopback swarms: torrents made by `shoal create`,
 * `shoal seed` processes that report their port, waits on a downloader's
 * progress, and a TCP proxy that cuts a connection part-way through.
 */
import net from 'node:net';
import path from 'node:path';
import { expect } from 'vitest';
import { runShoal, show, spawnShoal, type Proc, type RunOptions } from './cli.ts';
import { makeTree, type FileSpec } from './files.ts';

/** Runs `shoal create` and returns the torrent path and its `--json` summary. */
export async function createTorrent(
  input: string,
  out: string,
  extra: string[] = [],
  options: RunOptions = {},
): Promise<{
  torrent: string;
  infoHash: string | null;
  infoHashV2: string | null;
  totalSize: number;
}> {
  // --force: a retried test (CI retries once) writes the same torrent again.
  const result = await runShoal(
    ['create', input, '-o', out, '--json', '--no-date', '--force', ...extra],
    options,
  );
  expect(result.code, show(result)).toBe(0);
  const doc = JSON.parse(result.stdout) as {
    torrent: string;
    infoHash: string | null;
    infoHashV2: string | null;
    totalSize: number;
  };
  return doc;
}

export interface ShoalSeeder {
  proc: Proc;
  port: number;
}

/**
 * `shoal seed TORRENT -d DIR --port 0`, resolved once it has verified the
 * data, listens and is seeding (it prints its port on stderr).
 */
export async function startShoalSeeder(
  torrent: string,
  dataDir: string,
  extra: string[] = [],
  options: RunOptions = {},
): Promise<ShoalSeeder> {
  const proc = spawnShoal(['seed', torrent, '-d', dataDir, '--port', '0', ...extra], options);
  const match = await proc.waitFor(/listening on port (\d+)/, 30_000, 'stderr');
  await proc.waitFor(/: seeding/, 30_000, 'stderr');
  return { proc, port: Number(match[1]) };
}

/**
 * The files of `entries` under WORK/payload, their torrent (16 KiB pieces)
 * at WORK/payload.torrent, and a shoal seeding them from WORK.
 */
export async function seedPayload(
  work: string,
  entries: FileSpec[],
): Promise<{ tree: string; torrent: string; seeder: ShoalSeeder }> {
  const tree = path.join(work, 'payload');
  await makeTree(tree, entries);
  const { torrent } = await createTorrent(tree, path.join(work, 'payload.torrent'), [
    '--piece-length',
    '16KiB',
  ]);
  return { tree, torrent, seeder: await startShoalSeeder(torrent, work) };
}

/** The highest download percentage a shoal process has printed so far (plain progress lines). */
export function lastPercent(proc: Proc): number {
  const all = [...proc.stderr.matchAll(/: (\d+(?:\.\d+)?)%\s/g)];
  return all.length ? Number(all[all.length - 1][1]) : 0;
}

/** Polls `predicate` until it holds; fails after `timeoutMs` with `describe()` in the message. */
export async function until(
  predicate: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until a shoal download has printed at least `percent`% (and is still running). */
export async function waitForPercent(
  proc: Proc,
  percent: number,
  timeoutMs = 30_000,
): Promise<void> {
  await until(
    () => {
      if (!proc.running)
        throw new Error(`${proc.name} exited before ${percent}%\n${proc.describe()}`);
      return lastPercent(proc) >= percent;
    },
    timeoutMs,
    () => proc.describe(),
  );
}

export interface CuttingProxy {
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Bytes forwarded from the target to the client on the first connection when it was cut. */
  cutAt: number | null;
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 to `targetPort`. On the first connection it
 * forwards exactly `cutAfter` bytes from the target and then drops both
 * sides (a peer vanishing in the middle of a message and of a piece); later
 * connections pass through untouched.
 */
export async function cuttingProxy(targetPort: number, cutAfter: number): Promise<CuttingProxy> {
  const sockets = new Set<net.Socket>();
  const state: CuttingProxy = {
    port: 0,
    connections: 0,
    cutAt: null,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    const first = state.connections++ === 0;
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    if (!first) {
      upstream.pipe(client);
      return;
    }
    let forwarded = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (state.cutAt !== null) return;
      const room = cutAfter - forwarded;
      if (chunk.length < room) {
        forwarded += chunk.length;
        client.write(chunk);
        return;
      }
      forwarded += room;
      state.cutAt = forwarded;
      client.write(chunk.subarray(0, room), () => {
        client.destroy();
        upstream.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

export const peerArg = (port: number) => ['--peer', `127.0.0.1:${port}`];

/** The path a download of a multi-file torrent named `name` writes under `out`. */
export const downloadedRoot = (out: string, name: string) => path.join(out, name);
