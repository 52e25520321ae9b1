/**
 * `fleet`: one machine plays a CI fleet. `shoal tracker` on 127.0.0.1, one
 * publisher (`shoal seed --seed-until 'completed>=N'`) and N downloaders
 * (default 20) started together, each with its own folder and port, DHT and
 * LSD off so the tracker is the only way to find each other. Then the same
 * with N aria2c downloaders (the publisher is still shoal).
 *
 * The rule for everyone: keep seeding until the tracker counts N completed
 * downloads, so early finishers serve the rest. shoal downloaders apply it
 * themselves (`--seed-until 'completed>=N'`); aria2c has no such rule, so it
 * seeds without a limit (`--seed-ratio=0.0 --seed-time=60`, one hour as a
 * safety net) and this harness stops every aria2c (SIGTERM: it says `stopped`
 * to the tracker) once a scrape shows N completed.
 *
 * Measured per run: seconds from the first spawn until each downloader has the
 * whole file (shoal's `phase: seeding` event, aria2c's
 * --on-bt-download-complete hook; both come after every piece passed its
 * SHA-1 check), the publisher's uploaded payload bytes (its `done` event),
 * each process's peak RSS and CPU (user + system, from /usr/bin/time around
 * it), and afterwards every downloaded file compared byte for byte with the
 * source. Runs alternate shoal and aria2c.
 *
 * Knobs: BENCH_FLEET_DOWNLOADERS (default 20, --quick 5), BENCH_FLEET_MIB
 * (file size, default 256, --quick 32), BENCH_FLEET_PUBLISHER_LIMIT (the
 * publisher's `--upload-limit`, e.g. 20MiB: on loopback it is as fast as any
 * downloader, on a real network its one uplink is shared by the whole fleet).
 * Standalone: node_modules/.bin/node bench/fleet.ts [--quick] [--runs N]
 * [--downloaders N] [--mib M] [--publisher-limit RATE] [--keep]
 */
import { mkdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fmt,
  freePort,
  log,
  markdownTable,
  median,
  primaryShoal,
  rotation,
  writeResults,
  type Context,
} from './lib/common.ts';
import { MiB, singleFile, warm, type DataSet } from './lib/data.ts';
import { Proc, killAll, run, sleep } from './lib/procs.ts';
import { decode, torrentFacts, type BValue } from './lib/torrent.ts';

const SELF = fileURLToPath(import.meta.url);
const TIME = '/usr/bin/time';
/** A run that has not finished in this long has failed (20 processes on 2 cores are slow). */
const RUN_TIMEOUT_MS = 20 * 60_000;
/** After the last downloader is done: how long everyone gets to notice and exit. */
const EXIT_GRACE_MS = 4 * 60_000;

export interface FleetOptions {
  downloaders: number;
  sizeMiB: number;
  /** The publisher's --upload-limit (bytes a second, with a unit), or none. */
  publisherLimit: string | undefined;
}

export function fleetOptions(ctx: Context): FleetOptions {
  const downloaders = Number(process.env.BENCH_FLEET_DOWNLOADERS ?? (ctx.quick ? 5 : 20));
  const sizeMiB = Number(process.env.BENCH_FLEET_MIB ?? (ctx.quick ? 32 : 256));
  if (!Number.isInteger(downloaders) || downloaders < 1)
    throw new Error('BENCH_FLEET_DOWNLOADERS must be a whole number from 1');
  if (!Number.isInteger(sizeMiB) || sizeMiB < 1)
    throw new Error('BENCH_FLEET_MIB must be a whole number of MiB from 1');
  return { downloaders, sizeMiB, publisherLimit: process.env.BENCH_FLEET_PUBLISHER_LIMIT };
}

/** One process under an inner /usr/bin/time that writes its CPU seconds and peak RSS. */
class Measured {
  readonly proc: Proc;
  readonly #cpuFile: string;

  constructor(cmd: string, args: string[], cpuFile: string, logFile?: string) {
    this.#cpuFile = cpuFile;
    this.proc = new Proc(TIME, ['-f', '%U %S %M', '-o', cpuFile, cmd, ...args], { logFile });
  }

  /**
   * The program itself: Proc's /usr/bin/time -> our /usr/bin/time -> program.
   * Signals go to it, not to a time process (which would die and orphan it).
   */
  async programPid(): Promise<number | null> {
    let pid: number | null = this.proc.pid;
    for (let depth = 0; depth < 2 && pid !== null; depth++) {
      const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
      const next = Number.parseInt(text.trim().split(/\s+/)[0] ?? '', 10);
      pid = Number.isFinite(next) ? next : null;
    }
    return pid;
  }

  /** SIGTERM to the program, then the whole group after `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.proc.endedAt) return;
    const pid = await this.programPid();
    if (pid !== null) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone already
      }
    }
    const ended = await within(
      this.proc.exited.then(() => true),
      graceMs,
      false,
    );
    if (!ended) await this.proc.stop('SIGKILL', 1000);
  }

  /** CPU seconds (user + system) and peak RSS (KiB); null when the program was killed. */
  async usage(): Promise<{ cpu: number; rssKiB: number } | null> {
    const text = await readFile(this.#cpuFile, 'utf8').catch(() => '');
    const match = /(\d+\.\d+) (\d+\.\d+) (\d+)\s*$/.exec(text);
    if (!match) return null;
    return { cpu: Number(match[1]) + Number(match[2]), rssKiB: Number(match[3]) };
  }
}

interface Downloader {
  measured: Measured;
  out: string;
  /** Milliseconds from the first spawn until it had the whole file. */
  doneAfterMs: Promise<number | null>;
}

interface Client {
  label: string;
  /** Starts downloader `i` into `out`; `t0` is Date.now() at the first spawn. */
  start(i: number, torrent: string, out: string, t0: number): Promise<Downloader>;
  /** Stops the downloaders once the tracker counts them all complete (aria2c only). */
  harnessStopsThem: boolean;
}

/** The promise's value, or `fallback` after `ms` (the timer is cleared either way). */
async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with ms since t0 when `text` shows on the process's stdout, null if it never does. */
function whenOutput(proc: Proc, text: string, t0: number): Promise<number | null> {
  return proc.waitForOutput(text, RUN_TIMEOUT_MS).then(
    () => Date.now() - t0,
    () => null,
  );
}

function shoalClient(n: number): Client {
  const shoal = primaryShoal();
  return {
    label: shoal.label,
    harnessStopsThem: false,
    async start(i, torrent, out, t0) {
      const port = await freePort(true);
      const measured = new Measured(
        shoal.cmd,
        [
          ...shoal.args,
          'download',
          torrent,
          '-o',
          out,
          '--port',
          String(port),
          '--no-dht',
          '--no-lsd',
          '--seed-until',
          `completed>=${n}`,
          '--timeout',
          '15m',
          '--events',
        ],
        path.join(out, '..', `cpu-${i}`),
      );
      // `phase: seeding` comes once every piece is verified and written.
      return { measured, out, doneAfterMs: whenOutput(measured.proc, '"phase":"seeding"', t0) };
    },
  };
}

function aria2Client(): Client {
  return {
    label: 'aria2c',
    harnessStopsThem: true,
    async start(i, torrent, out, t0) {
      const marker = path.join(out, '..', `done-${i}`);
      const hook = path.join(out, '..', `done-${i}.sh`);
      // The hook writes the time it ran (ns since the epoch): no polling delay in the figure.
      await writeFile(
        hook,
        `#!/bin/sh\ndate +%s%N > '${marker}.tmp' && mv '${marker}.tmp' '${marker}'\n`,
      );
      await chmod(hook, 0o755);
      const port = await freePort();
      const measured = new Measured(
        'aria2c',
        [
          `--dir=${out}`,
          '--enable-dht=false',
          '--enable-dht6=false',
          '--bt-enable-lpd=false',
          '--seed-ratio=0.0',
          '--seed-time=60',
          '--file-allocation=none',
          `--listen-port=${port}`,
          '--disable-ipv6=true',
          '--quiet=true',
          '--summary-interval=0',
          '--bt-save-metadata=false',
          '--allow-overwrite=true',
          `--on-bt-download-complete=${hook}`,
          torrent,
        ],
        path.join(out, '..', `cpu-${i}`),
      );
      const doneAfterMs = (async () => {
        while (!existsSync(marker)) {
          if (measured.proc.endedAt) return null;
          await sleep(100);
        }
        const ns = BigInt((await readFile(marker, 'utf8')).trim());
        return Number(ns / 1_000_000n) - t0;
      })();
      return { measured, out, doneAfterMs };
    },
  };
}

/** The tracker's scrape counts for one torrent. */
async function scrape(port: number, infoHash: string): Promise<Record<string, number>> {
  const escaped = infoHash.replace(/../g, (byte) => `%${byte}`);
  const response = await fetch(`http://127.0.0.1:${port}/scrape?info_hash=${escaped}`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = Buffer.from(await response.arrayBuffer());
  const files = (decode(body).value as { [k: string]: BValue }).files as {
    [k: string]: { [k: string]: number };
  };
  return Object.values(files ?? {})[0] ?? {};
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(500);
  }
  return false;
}

interface RunResult {
  client: string;
  ok: boolean;
  note: string;
  /** Seconds from the first spawn until each downloader had the file (null: never). */
  doneSeconds: (number | null)[];
  lastDoneSeconds: number | null;
  /** Seconds from the first spawn until every downloader had exited. */
  allExitedSeconds: number | null;
  publisherUploaded: number | null;
  publisherCpu: number | null;
  publisherRssMiB: number | null;
  downloaderRssMiB: number[];
  downloadersCpu: number | null;
  bytesEqual: number;
}

/** The publisher's uploaded bytes: from its `done` event, else its last progress event. */
function uploadedFromEvents(stdout: string): number | null {
  let uploaded: number | null = null;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const event = JSON.parse(line) as { type?: string; uploaded?: number };
      if ((event.type === 'done' || event.type === 'progress') && event.uploaded !== undefined)
        uploaded = event.uploaded;
    } catch {
      // a line cut off at the 1 MiB capture limit
    }
  }
  return uploaded;
}

async function fleetRun(
  ctx: Context,
  options: FleetOptions,
  client: Client,
  set: DataSet,
  torrent: string,
  infoHash: string,
  trackerPort: number,
  whitelist: string,
  runDir: string,
): Promise<RunResult> {
  const n = options.downloaders;
  const shoal = primaryShoal();
  await rm(runDir, { recursive: true, force: true });
  await mkdir(runDir, { recursive: true });
  const result: RunResult = {
    client: client.label,
    ok: false,
    note: '',
    doneSeconds: [],
    lastDoneSeconds: null,
    allExitedSeconds: null,
    publisherUploaded: null,
    publisherCpu: null,
    publisherRssMiB: null,
    downloaderRssMiB: [],
    downloadersCpu: null,
    bytesEqual: 0,
  };

  // A fresh tracker per run: its completed count must start at 0.
  const tracker = new Proc(
    shoal.cmd,
    [
      ...shoal.args,
      'tracker',
      '--port',
      String(trackerPort),
      '--bind',
      '127.0.0.1',
      '--whitelist',
      whitelist,
      '--interval',
      '60s',
      '--json',
    ],
    { logFile: path.join(runDir, 'tracker.log') },
  );
  await tracker.waitForOutput('"type":"listening"', 60_000);

  const publisher = new Measured(
    shoal.cmd,
    [
      ...shoal.args,
      'seed',
      torrent,
      '-d',
      set.parent,
      '--port',
      String(await freePort(true)),
      '--no-dht',
      '--no-lsd',
      '--seed-until',
      `completed>=${n}`,
      '--events',
      ...(options.publisherLimit ? ['--upload-limit', options.publisherLimit] : []),
    ],
    path.join(runDir, 'cpu-publisher'),
  );
  const downloaders: Downloader[] = [];
  try {
    await publisher.proc.waitForOutput('"phase":"seeding"', 300_000);
    if (
      !(await waitUntil(async () => (await scrape(trackerPort, infoHash)).complete === 1, 60_000))
    )
      throw new Error('the tracker never listed the publisher');

    const t0 = Date.now();
    for (let i = 0; i < n; i++) {
      const out = path.join(runDir, `d${String(i).padStart(2, '0')}`, 'out');
      await mkdir(out, { recursive: true });
      downloaders.push(await client.start(i, torrent, out, t0));
    }
    log(
      `  ${client.label}: ${n} downloaders started in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    const done = Promise.all(downloaders.map((d) => d.doneAfterMs));
    const finished = await within(done, RUN_TIMEOUT_MS, null);
    const doneMs = finished ?? (await Promise.all(downloaders.map((d) => peek(d.doneAfterMs))));
    result.doneSeconds = doneMs.map((ms) => (ms === null ? null : ms / 1000));
    const all = result.doneSeconds.every((s) => s !== null);
    result.lastDoneSeconds = all ? Math.max(...(result.doneSeconds as number[])) : null;
    log(
      `  ${client.label}: ${result.doneSeconds.filter((s) => s !== null).length}/${n} have the file, last after ${fmt(result.lastDoneSeconds, 1)} s`,
    );

    // Everyone seeds until the tracker counts n completed; then they (and the publisher) leave.
    const counted = await waitUntil(
      async () => ((await scrape(trackerPort, infoHash)).downloaded ?? 0) >= n,
      EXIT_GRACE_MS,
    );
    if (!counted) result.note = `tracker never counted ${n} completed`;
    if (client.harnessStopsThem) await Promise.all(downloaders.map((d) => d.measured.stop()));
    const exited = await within(
      Promise.all(downloaders.map((d) => d.measured.proc.exited)).then(() => true),
      EXIT_GRACE_MS,
      false,
    );
    if (exited)
      result.allExitedSeconds =
        (Math.max(...downloaders.map((d) => d.measured.proc.endedAt)) -
          downloaders[0]!.measured.proc.started) /
        1000;
    else result.note ||= 'downloaders still running after the grace period (stopped)';
    const publisherLeft = await within(
      publisher.proc.exited.then(() => true),
      EXIT_GRACE_MS,
      false,
    );
    if (!publisherLeft) result.note ||= 'the publisher did not leave on its own (stopped)';
  } finally {
    await Promise.all(downloaders.map((d) => d.measured.stop(5000)));
    await publisher.stop(5000);
    await tracker.stop('SIGTERM', 3000);
  }

  result.publisherUploaded = uploadedFromEvents(publisher.proc.stdout);
  const pub = await publisher.usage();
  result.publisherCpu = pub?.cpu ?? null;
  result.publisherRssMiB = pub ? pub.rssKiB / 1024 : null;
  const usages = await Promise.all(downloaders.map((d) => d.measured.usage()));
  result.downloaderRssMiB = usages.flatMap((u) => (u ? [u.rssKiB / 1024] : []));
  result.downloadersCpu = usages.every((u) => u !== null)
    ? usages.reduce((sum, u) => sum + u!.cpu, 0)
    : null;
  for (const d of downloaders) {
    const file = path.join(d.out, path.basename(set.root));
    if (
      await run('cmp', ['-s', set.root, file]).then(
        () => true,
        () => false,
      )
    )
      result.bytesEqual++;
  }
  result.ok = result.lastDoneSeconds !== null && result.bytesEqual === n;
  if (!ctx.keep) await rm(runDir, { recursive: true, force: true });
  return result;
}

/** The value of a promise if it has settled, else null (without waiting). */
async function peek<T>(promise: Promise<T | null>): Promise<T | null> {
  return within(promise, 0, null);
}

interface Summary {
  client: string;
  okRuns: string;
  lastDone: number;
  firstDone: number;
  allExited: number;
  uploaded: number;
  cpuDownloaders: number;
  cpuPublisher: number;
  rssMedian: number;
  rssMax: number;
  publisherRss: number;
}

function summarize(label: string, runs: RunResult[]): Summary {
  const ok = runs.filter((r) => r.ok);
  const med = (pick: (r: RunResult) => number | null) =>
    median(ok.map(pick).filter((v): v is number => v !== null));
  return {
    client: label,
    okRuns: `${ok.length}/${runs.length}`,
    lastDone: med((r) => r.lastDoneSeconds),
    firstDone: med((r) => Math.min(...(r.doneSeconds as number[]))),
    allExited: med((r) => r.allExitedSeconds),
    uploaded: med((r) => r.publisherUploaded),
    cpuDownloaders: med((r) => r.downloadersCpu),
    cpuPublisher: med((r) => r.publisherCpu),
    rssMedian: med((r) => median(r.downloaderRssMiB)),
    rssMax: med((r) => (r.downloaderRssMiB.length ? Math.max(...r.downloaderRssMiB) : null)),
    publisherRss: med((r) => r.publisherRssMiB),
  };
}

export async function benchFleet(ctx: Context): Promise<string> {
  const options = fleetOptions(ctx);
  const n = options.downloaders;
  const set = await singleFile(ctx.scratch, 'fleet', options.sizeMiB * MiB, ctx.seed);
  const trackerPort = await freePort(true);
  const torrent = path.join(ctx.scratch, 'fleet.torrent');
  await rm(torrent, { force: true });
  await run('mktorrent', [
    '-l',
    '20',
    '-a',
    `http://127.0.0.1:${trackerPort}/announce`,
    '-o',
    torrent,
    set.root,
  ]);
  const { infoHash } = await torrentFacts(torrent);
  const whitelist = path.join(ctx.scratch, 'fleet.hashes');
  await writeFile(whitelist, `${infoHash}\n`);
  await warm(set);

  const clients = [shoalClient(n), aria2Client()];
  const runs: RunResult[][] = clients.map(() => []);
  for (let r = 0; r < ctx.runs; r++) {
    for (const i of rotation([0, 1], r)) {
      const client = clients[i]!;
      log(
        `fleet run ${r + 1}/${ctx.runs}: ${client.label}, ${n} downloaders, ${options.sizeMiB} MiB`,
      );
      const result = await fleetRun(
        ctx,
        options,
        client,
        set,
        torrent,
        infoHash,
        trackerPort,
        whitelist,
        path.join(ctx.scratch, 'fleet-run'),
      );
      runs[i]!.push(result);
      log(
        `  ${client.label}: ${result.ok ? 'ok' : 'FAILED'}, last done ${fmt(result.lastDoneSeconds, 1)} s, publisher uploaded ${fmt((result.publisherUploaded ?? NaN) / MiB, 0)} MiB, downloaders CPU ${fmt(result.downloadersCpu, 1)} s, ${result.bytesEqual}/${n} files equal${result.note ? ` (${result.note})` : ''}`,
      );
    }
  }

  const size = options.sizeMiB * MiB;
  const summaries = clients.map((c, i) => summarize(c.label, runs[i]!));
  const table = markdownTable(
    [
      'downloaders',
      'all have the file (median s)',
      'first has it s',
      'all exited s',
      'publisher uploaded MiB',
      'x file',
      'downloader peak RSS MiB (median / max)',
      'CPU s, downloaders total',
      'CPU s, publisher',
      'publisher peak RSS MiB',
      'ok runs',
    ],
    summaries.map((s) => [
      `${n} x ${s.client}`,
      fmt(s.lastDone, 1),
      fmt(s.firstDone, 1),
      fmt(s.allExited, 1),
      fmt(s.uploaded / MiB, 0),
      fmt(s.uploaded / size, 2),
      `${fmt(s.rssMedian, 0)} / ${fmt(s.rssMax, 0)}`,
      fmt(s.cpuDownloaders, 1),
      fmt(s.cpuPublisher, 1),
      fmt(s.publisherRss, 0),
      s.okRuns,
    ]),
  );
  const file = await writeResults(ctx, 'fleet', {
    downloaders: n,
    sizeBytes: size,
    publisherLimit: options.publisherLimit ?? null,
    summaries,
    runs: Object.fromEntries(clients.map((c, i) => [c.label, runs[i]])),
  });
  const limit = options.publisherLimit
    ? `, publisher --upload-limit ${options.publisherLimit}`
    : '';
  return `### fleet (1 shoal publisher${limit}, ${n} downloaders started together, shoal tracker, ${options.sizeMiB} MiB file, 1 MiB pieces, loopback; medians of ${ctx.runs} runs)\n\n${table}\n\nresults: ${path.relative(process.cwd(), file)}\n`;
}

// Standalone run (npm run bench -- fleet runs it through bench/run.ts).
if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const argv = process.argv.slice(2);
  const value = (flag: string) => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  if (value('--downloaders')) process.env.BENCH_FLEET_DOWNLOADERS = value('--downloaders');
  if (value('--mib')) process.env.BENCH_FLEET_MIB = value('--mib');
  if (value('--publisher-limit'))
    process.env.BENCH_FLEET_PUBLISHER_LIMIT = value('--publisher-limit');
  const quick = argv.includes('--quick');
  const ctx: Context = {
    quick,
    keep: argv.includes('--keep'),
    seed: 1,
    runs: Number(value('--runs') ?? (quick ? 1 : 3)),
    scratch: '/tmp/shoal-bench-fleet',
  };
  try {
    await mkdir(ctx.scratch, { recursive: true });
    process.stdout.write(await benchFleet(ctx));
  } finally {
    await killAll(1000, true);
    if (!ctx.keep) await rm(ctx.scratch, { recursive: true, force: true });
  }
}
