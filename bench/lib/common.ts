/** Shared harness pieces: context, shoal builds, statistics, tables, results, ports. */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { run, sleep } from './procs.ts';

export const REPO = path.resolve(import.meta.dirname, '..', '..');
export const NODE24 = path.join(REPO, 'node_modules', '.bin', 'node');
export const PYTHON = '/usr/bin/python3';
export const LT_PY = path.join(REPO, 'bench', 'lt.py');

export interface Context {
  quick: boolean;
  keep: boolean;
  seed: number;
  /** Runs per tool (alternating). */
  runs: number;
  scratch: string;
}

export interface ShoalBuild {
  /** `shoal (dev)` or `shoal (dist)`. */
  label: string;
  cmd: string;
  args: string[];
}

/**
 * `node bin/dev.js` always; `SHOAL_BENCH_BASELINE` (an executable built from
 * an earlier commit) when set, so a before/after comparison alternates the
 * two in one run; `dist/shoal` when it has been built.
 */
export function shoalBuilds(): ShoalBuild[] {
  const builds: ShoalBuild[] = [
    { label: 'shoal (dev)', cmd: NODE24, args: [path.join(REPO, 'bin', 'dev.js')] },
  ];
  const baseline = process.env.SHOAL_BENCH_BASELINE;
  if (baseline) builds.push({ label: 'shoal (baseline dist)', cmd: baseline, args: [] });
  const dist = path.join(REPO, 'dist', 'shoal');
  if (existsSync(dist)) builds.push({ label: 'shoal (dist)', cmd: dist, args: [] });
  return builds;
}

/** The build to use where only one is measured: dist when it exists. */
export function primaryShoal(): ShoalBuild {
  return shoalBuilds().at(-1)!;
}

export function median(values: number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface Sample {
  wall: number;
  rssKiB: number | null;
  ok: boolean;
  [extra: string]: unknown;
}

export interface Row {
  case: string;
  tool: string;
  samples: Sample[];
  /** Extra columns already formatted (throughput, ratios, notes). */
  [column: string]: unknown;
}

export function okSamples(row: Row): Sample[] {
  return row.samples.filter((s) => s.ok);
}

export function medianWall(row: Row): number {
  return median(okSamples(row).map((s) => s.wall));
}

export function peakRssMiB(row: Row): number | null {
  const values = row.samples.map((s) => s.rssKiB).filter((v): v is number => v !== null);
  return values.length ? Math.max(...values) / 1024 : null;
}

export const fmt = (n: number | null | undefined, digits = 2): string =>
  n === null || n === undefined || !Number.isFinite(n) ? '-' : n.toFixed(digits);

export function markdownTable(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Rotate the order each run so no tool always goes first (or right after another). */
export function rotation<T>(items: T[], run: number): T[] {
  const k = run % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export async function machine(): Promise<Record<string, unknown>> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  return {
    cpus: os.cpus().length,
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    loadAverage: os.loadavg(),
    kernel: os.release(),
  };
}

export async function versions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const tryRun = async (key: string, cmd: string, args: string[]) => {
    try {
      out[key] = (await run(cmd, args)).trim().split('\n')[0]!;
    } catch {
      out[key] = 'unavailable';
    }
  };
  for (const build of shoalBuilds())
    await tryRun(build.label, build.cmd, [...build.args, '--version']);
  await tryRun('node (shoal)', NODE24, ['--version']);
  await tryRun('libtorrent', PYTHON, ['-c', 'import libtorrent; print(libtorrent.version)']);
  for (const pkg of [
    'mktorrent',
    'transmission-cli',
    'aria2',
    'opentracker',
    'python3-libtorrent',
    'hyperfine',
  ]) {
    await tryRun(pkg, 'dpkg-query', ['-W', '-f', '${Version}', pkg]);
  }
  return out;
}

export async function writeResults(
  ctx: Context,
  name: string,
  data: Record<string, unknown>,
): Promise<string> {
  const dir = path.join(REPO, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(dir, `${name}${ctx.quick ? '-quick' : ''}-${stamp}.json`);
  const doc = {
    benchmark: name,
    date: new Date().toISOString(),
    quick: ctx.quick,
    runs: ctx.runs,
    seed: ctx.seed,
    machine: await machine(),
    versions: await versions(),
    ...data,
  };
  await writeFile(file, `${JSON.stringify(doc, null, 2)}\n`);
  return file;
}

/** A port that is free for TCP and UDP on 127.0.0.1 right now. */
export async function freePort(udp = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    if (!udp) return port;
    const free = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port');
}

export async function waitForTcp(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}
