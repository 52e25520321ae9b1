/**
 * A loopback swarm: opentracker on 127.0.0.1 with a whitelist, and
 * python3-libtorrent seeders (bench/lt.py) announcing to it.
 */
import http from 'node:http';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LT_PY, PYTHON, freePort, log, waitForTcp } from './common.ts';
import { Proc, sleep } from './procs.ts';
import { decode, type BValue } from './torrent.ts';

const OPENTRACKER = '/usr/bin/opentracker';

function percent(bytes: Buffer): string {
  return [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

function get(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { timeout: 3000, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks)));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}

export interface Tracker {
  port: number;
  announce: string;
  proc: Proc;
  /** Seeders the tracker knows for an info-hash (hex). */
  seeders(infoHash: string): Promise<number>;
}

/** The port is chosen first (torrents carry the announce URL, the info-hashes do not depend on it). */
export async function trackerPort(): Promise<number> {
  return freePort(true);
}

export async function startTracker(
  scratch: string,
  port: number,
  infoHashes: string[],
): Promise<Tracker> {
  // As root opentracker chroots into -d and drops to nobody before reading the
  // whitelist: the directory and file must be world-readable, the path relative to the chroot.
  const dir = path.join(scratch, 'tracker');
  await mkdir(dir, { recursive: true });
  await chmod(scratch, 0o755);
  await chmod(dir, 0o755);
  await writeFile(path.join(dir, 'whitelist'), `${infoHashes.join('\n')}\n`, { mode: 0o644 });
  await chmod(path.join(dir, 'whitelist'), 0o644);
  const whitelist = process.getuid?.() === 0 ? '/whitelist' : path.join(dir, 'whitelist');
  const proc = new Proc(
    OPENTRACKER,
    ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-w', whitelist],
    { cwd: dir, logFile: path.join(scratch, 'opentracker.log') },
  );
  await waitForTcp(port, 10_000);
  const base = `http://127.0.0.1:${port}`;
  // The whitelist loads in the background after the listen: probe until a regular
  // announce is accepted, then take the probe peer (port 9, closed) out again.
  const deadline = Date.now() + 15_000;
  for (const hex of infoHashes) {
    const hash = percent(Buffer.from(hex, 'hex'));
    const query = (event: string) =>
      `${base}/announce?info_hash=${hash}&peer_id=-BENCH0-probe0000000&port=9&uploaded=0&downloaded=0&left=1&compact=1${event}`;
    for (;;) {
      const body = await get(query('')).catch(() => Buffer.from('failure reason'));
      if (!body.includes('failure reason')) break;
      if (Date.now() > deadline) throw new Error(`opentracker refuses ${hex}: ${body.toString()}`);
      await sleep(100);
    }
    await get(query('&event=stopped')).catch(() => undefined);
  }
  return {
    port,
    announce: `${base}/announce`,
    proc,
    async seeders(infoHash: string): Promise<number> {
      const body = await get(`${base}/scrape?info_hash=${percent(Buffer.from(infoHash, 'hex'))}`);
      const files = (decode(body).value as { [k: string]: BValue }).files as {
        [k: string]: { [k: string]: BValue };
      };
      const entry = Object.values(files ?? {})[0];
      return (entry?.complete as number | undefined) ?? 0;
    },
  };
}

/** `count` libtorrent seeders, each seeding every torrent (T:DIR specs), announced to the tracker. */
export async function startSeeders(
  scratch: string,
  count: number,
  specs: string[],
  tracker: Tracker | null,
  infoHashes: string[],
): Promise<{ procs: Proc[]; ports: number[] }> {
  const procs: Proc[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    ports.push(port);
    const args = [LT_PY, 'seed', '--port', String(port)];
    for (const spec of specs) args.push('--torrent', spec);
    const proc = new Proc(PYTHON, args, {
      logFile: path.join(scratch, `seeder-${port}.log`),
      stdin: true,
    });
    procs.push(proc);
    await proc.waitForOutput('READY', 30_000);
    await waitForTcp(port, 10_000);
  }
  if (tracker) {
    const deadline = Date.now() + 30_000;
    for (const hash of infoHashes) {
      while ((await tracker.seeders(hash)) < count) {
        if (Date.now() > deadline)
          throw new Error(`tracker does not list ${count} seeders for ${hash}`);
        await sleep(200);
      }
    }
    log(
      `swarm: ${count} libtorrent seeders on ports ${ports.join(', ')}, tracker ${tracker.announce}`,
    );
  }
  return { procs, ports };
}
