/**
 * `daemon`: what one long-running `shoal daemon` costs and how its RPC holds up.
 *
 * 1. torrent-get latency (p50, p99; one call after another, 25 ms apart, with
 *    the fields a client's list view asks for) while the daemon downloads one
 *    file at full speed from a python3-libtorrent seeder, and while it
 *    verifies (torrent-verify) 2 GiB on disk. transmission-daemon does the
 *    verify leg too; not the download leg: it refuses peers on 127.x
 *    ("martian" addresses), and this harness has only loopback.
 * 2. 50 torrents (4 MiB each, zeros in sparse files) seeded by one daemon
 *    against 50 one-shot `shoal seed` processes: resident memory (sum) once all
 *    seed, and CPU seconds over 10 s of idle seeding.
 * 3. torrent-get of 1 000 paused torrents (every torrent, the same fields):
 *    shoal daemon and transmission-daemon.
 *
 * Every leg `ctx.runs` times; medians reported. shoal runs from source
 * (`node bin/dev.js`, Node 24): dist/shoal may lag behind the tree.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RpcClient } from '../src/core/rpc/client.ts';
import {
  LT_PY,
  PYTHON,
  fmt,
  freePort,
  log,
  markdownTable,
  median,
  shoalBuilds,
  waitForTcp,
  writeResults,
  type Context,
} from './lib/common.ts';
import { GiB, MiB, singleFile } from './lib/data.ts';
import { usageOf } from './lib/proc-usage.ts';
import { Proc, run, sleep } from './lib/procs.ts';
import { sparseFile, writeZeroTorrent } from './lib/zero-torrent.ts';

/** What transmission-remote -l, tremc and stig ask for in their torrent lists. */
const LIST_FIELDS = [
  'id',
  'name',
  'status',
  'error',
  'errorString',
  'percentDone',
  'recheckProgress',
  'eta',
  'rateDownload',
  'rateUpload',
  'uploadRatio',
  'sizeWhenDone',
  'leftUntilDone',
  'totalSize',
  'haveValid',
  'peersConnected',
  'queuePosition',
  'labels',
  'downloadDir',
];

const SEEDING = 6;

interface Daemon {
  proc: Proc;
  rpc: RpcClient;
  peerPort: number;
  pid: number;
}

/** Resolves once the daemon `proc` answers on `rpcPort`. */
async function serving(proc: Proc, rpcPort: number, peerPort: number): Promise<Daemon> {
  await waitForTcp(rpcPort, 60_000);
  const pid = (await proc.innerPid()) ?? proc.pid;
  return {
    proc,
    rpc: new RpcClient(`http://127.0.0.1:${rpcPort}/transmission/rpc`),
    peerPort,
    pid,
  };
}

/** `downloads` is where the data lies: a daemon refuses RPC paths outside its download folder. */
async function startShoalDaemon(
  work: string,
  downloads = path.join(work, 'downloads'),
): Promise<Daemon> {
  const state = path.join(work, 'state');
  await mkdir(work, { recursive: true });
  await mkdir(downloads, { recursive: true });
  const rpcPort = await freePort();
  const peerPort = await freePort();
  const shoal = shoalBuilds()[0]!;
  const proc = new Proc(
    shoal.cmd,
    [
      ...shoal.args,
      'daemon',
      '--state-dir',
      state,
      '--download-dir',
      downloads,
      '--rpc-port',
      String(rpcPort),
      '--port',
      String(peerPort),
      '--no-dht',
    ],
    { logFile: path.join(work, 'daemon.log') },
  );
  return await serving(proc, rpcPort, peerPort);
}

async function startTransmission(
  work: string,
  downloads = path.join(work, 'downloads'),
): Promise<Daemon> {
  const config = path.join(work, 'tr-config');
  await mkdir(work, { recursive: true });
  await mkdir(config, { recursive: true });
  await mkdir(downloads, { recursive: true });
  await writeFile(
    path.join(config, 'settings.json'),
    JSON.stringify({
      'dht-enabled': false,
      'lpd-enabled': false,
      'pex-enabled': false,
      'utp-enabled': false,
      'port-forwarding-enabled': false,
      'bind-address-ipv4': '127.0.0.1',
      'rpc-bind-address': '127.0.0.1',
      'rpc-whitelist': '127.0.0.1',
      'message-level': 1,
    }),
  );
  const rpcPort = await freePort();
  const peerPort = await freePort();
  const proc = new Proc(
    'transmission-daemon',
    ['-f', '-g', config, '-p', String(rpcPort), '-P', String(peerPort), '-w', downloads, '-T'],
    { logFile: path.join(work, 'transmission.log') },
  );
  return await serving(proc, rpcPort, peerPort);
}

interface ListedTorrent {
  id: number;
  status: number;
  percentDone: number;
  leftUntilDone: number;
  recheckProgress: number;
}

/**
 * Calls torrent-get (LIST_FIELDS) one after another, 25 ms apart, until `done`
 * holds for the answer; returns each call's latency in ms.
 */
async function latencies(
  rpc: RpcClient,
  done: (torrents: ListedTorrent[], startedAt: number) => boolean,
  timeoutMs: number,
): Promise<number[]> {
  const samples: number[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const started = performance.now();
    const answer = (await rpc.call('torrent-get', { fields: LIST_FIELDS })) as {
      torrents: ListedTorrent[];
    };
    samples.push(performance.now() - started);
    if (done(answer.torrents, started)) return samples;
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await sleep(25); // under the daemon's 50 requests per second per caller
  }
}

/**
 * torrent-add, waiting out the daemon's request-rate cap (50 per second per
 * caller, then HTTP 429) when adding hundreds in a row.
 */
async function addPaced(rpc: RpcClient, args: Record<string, unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rpc.call('torrent-add', args);
      return;
    } catch (error) {
      if (!/\b429\b/.test((error as Error).message) || attempt > 100) throw error;
      await sleep(250);
    }
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function mktorrent(data: string, out: string, pieceExp: number): Promise<string> {
  await rm(out, { force: true });
  await run('mktorrent', [
    '-a',
    'http://127.0.0.1:9/announce',
    '-l',
    String(pieceExp),
    '-o',
    out,
    data,
  ]);
  return (await readFile(out)).toString('base64');
}

async function waitAll(rpc: RpcClient, check: (t: ListedTorrent) => boolean, count: number) {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const { torrents } = (await rpc.call('torrent-get', { fields: LIST_FIELDS })) as {
      torrents: ListedTorrent[];
    };
    if (torrents.length === count && torrents.every(check)) return;
    if (Date.now() > deadline) throw new Error('torrents not ready within 10 minutes');
    await sleep(200);
  }
}

/** torrent-get latency during a full-speed download from a libtorrent seeder (shoal only). */
async function downloadLeg(ctx: Context, size: number): Promise<number[]> {
  const set = await singleFile(ctx.scratch, 'daemon-download', size, ctx.seed);
  const metainfo = await mktorrent(set.root, path.join(ctx.scratch, 'daemon-download.torrent'), 20);
  const work = path.join(ctx.scratch, 'daemon-dl-run');
  await rm(work, { recursive: true, force: true });
  const daemon = await startShoalDaemon(work);
  const seedPort = await freePort();
  const seeder = new Proc(
    PYTHON,
    [
      LT_PY,
      'seed',
      '--port',
      String(seedPort),
      '--torrent',
      `${path.join(ctx.scratch, 'daemon-download.torrent')}:${set.parent}`,
    ],
    { stdin: true, logFile: path.join(ctx.scratch, 'daemon-seeder.log') },
  );
  try {
    await seeder.waitForOutput('READY', 30_000);
    await daemon.rpc.call('torrent-add', { metainfo });
    seeder.send(`connect 127.0.0.1:${daemon.peerPort}`);
    return await latencies(
      daemon.rpc,
      (list) => list[0]?.leftUntilDone === 0 && list[0].status === SEEDING,
      600_000,
    );
  } finally {
    await seeder.stop();
    await daemon.proc.stop();
  }
}

/** torrent-get latency during torrent-verify of `size` bytes already on disk. */
async function verifyLeg(
  ctx: Context,
  who: 'shoal' | 'transmission',
  size: number,
): Promise<number[]> {
  const set = await singleFile(ctx.scratch, 'daemon-verify', size, ctx.seed);
  const torrentFile = path.join(ctx.scratch, 'daemon-verify.torrent');
  const metainfo = await mktorrent(set.root, torrentFile, 20);
  const work = path.join(ctx.scratch, `daemon-verify-${who}`);
  await rm(work, { recursive: true, force: true });
  const daemon =
    who === 'shoal'
      ? await startShoalDaemon(work, set.parent)
      : await startTransmission(work, set.parent);
  try {
    await daemon.rpc.call('torrent-add', { metainfo, 'download-dir': set.parent });
    // The check at add time first (it also warms the page cache for both alike).
    await waitAll(daemon.rpc, (t) => t.status === SEEDING && t.percentDone === 1, 1);
    // Polled from before the request: a fast disk verifies 2 GiB in about a second. The
    // verify is over at the first answer, asked after torrent-verify returned (the check
    // then runs or is queued), that shows the torrent seeding again.
    let verifyReturnedAt = Number.POSITIVE_INFINITY;
    const verifying = daemon.rpc.call('torrent-verify', {}).then(() => {
      verifyReturnedAt = performance.now();
    });
    const samples = await latencies(
      daemon.rpc,
      (list, startedAt) =>
        startedAt > verifyReturnedAt && list[0]?.status === SEEDING && list[0].percentDone === 1,
      600_000,
    );
    await verifying;
    return samples;
  } finally {
    await daemon.proc.stop();
  }
}

/** `count` zero torrents of `size` bytes with their (sparse) data under `dir`. */
async function zeroTorrents(dir: string, count: number, size: number): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `zero-${size}-${i}.bin`;
    const file = path.join(dir, `${name}.torrent`);
    await writeZeroTorrent(file, name, size, 256 * 1024);
    await sparseFile(path.join(dir, name), size);
    files.push(file);
  }
  return files;
}

/** CPU seconds `pids` use over `ms` of (idle) seeding. */
async function cpuOver(pids: number[], ms: number): Promise<number> {
  const sum = async () =>
    (await Promise.all(pids.map(usageOf))).reduce((s, u) => s + (u?.cpuSeconds ?? 0), 0);
  const before = await sum();
  await sleep(ms);
  return (await sum()) - before;
}

async function rssSum(pids: number[]): Promise<number> {
  return (await Promise.all(pids.map(usageOf))).reduce((s, u) => s + (u?.rssMiB ?? 0), 0);
}

interface ManyResult {
  rssMiB: number;
  idleCpuSeconds: number;
}

async function manyInDaemon(ctx: Context, torrents: string[], dir: string): Promise<ManyResult> {
  const work = path.join(ctx.scratch, 'daemon-many');
  await rm(work, { recursive: true, force: true });
  const daemon = await startShoalDaemon(work, dir);
  try {
    for (const file of torrents) {
      const metainfo = (await readFile(file)).toString('base64');
      await addPaced(daemon.rpc, { metainfo, 'download-dir': dir });
    }
    await daemon.rpc.call('session-set', { 'seed-queue-enabled': false });
    await waitAll(daemon.rpc, (t) => t.status === SEEDING, torrents.length);
    await sleep(2000);
    return {
      rssMiB: await rssSum([daemon.pid]),
      idleCpuSeconds: await cpuOver([daemon.pid], 10_000),
    };
  } finally {
    await daemon.proc.stop();
  }
}

async function manyOneShot(torrents: string[], dir: string): Promise<ManyResult> {
  const shoal = shoalBuilds()[0]!;
  const procs: Proc[] = [];
  try {
    for (const file of torrents) {
      const port = await freePort();
      const proc = new Proc(
        shoal.cmd,
        [
          ...shoal.args,
          'seed',
          file,
          '-d',
          dir,
          '--port',
          String(port),
          '--no-dht',
          '--no-lsd',
          '--quiet',
        ],
        { env: { SHOAL_NO_DHT: '1', SHOAL_NO_LSD: '1' } },
      );
      procs.push(proc);
      // Listening means the data was checked and it seeds.
      await waitForTcp(port, 60_000);
    }
    await sleep(2000);
    const pids = await Promise.all(procs.map(async (p) => (await p.innerPid()) ?? p.pid));
    return { rssMiB: await rssSum(pids), idleCpuSeconds: await cpuOver(pids, 10_000) };
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}

/** Median time (ms) of torrent-get of every torrent, `count` paused torrents added first. */
async function thousandLeg(
  ctx: Context,
  who: 'shoal' | 'transmission',
  torrents: string[],
  dir: string,
): Promise<number> {
  const work = path.join(ctx.scratch, `daemon-1000-${who}`);
  await rm(work, { recursive: true, force: true });
  const daemon =
    who === 'shoal' ? await startShoalDaemon(work, dir) : await startTransmission(work, dir);
  try {
    for (const file of torrents) {
      const metainfo = (await readFile(file)).toString('base64');
      await addPaced(daemon.rpc, { metainfo, paused: true, 'download-dir': dir });
    }
    // The adds used up the request-rate allowance: let it fill again, and space the timed calls.
    await sleep(3000);
    const times: number[] = [];
    for (let i = 0; i < 11; i++) {
      await sleep(100);
      const started = performance.now();
      const answer = (await daemon.rpc.call('torrent-get', { fields: LIST_FIELDS })) as {
        torrents: unknown[];
      };
      times.push(performance.now() - started);
      if (answer.torrents.length !== torrents.length) {
        throw new Error(
          `${who}: ${answer.torrents.length} torrents listed, ${torrents.length} added`,
        );
      }
    }
    return median(times);
  } finally {
    await daemon.proc.stop();
  }
}

export async function benchDaemon(ctx: Context): Promise<string> {
  const downloadSize = ctx.quick ? 256 * MiB : 1 * GiB;
  const verifySize = ctx.quick ? 256 * MiB : 2 * GiB;
  const many = ctx.quick ? 10 : 50;
  const listed = ctx.quick ? 200 : 1000;
  const zeroDir = path.join(ctx.scratch, 'daemon-zero');
  const seeds = await zeroTorrents(path.join(zeroDir, 'seed'), many, 4 * MiB);
  const paused = await zeroTorrents(path.join(zeroDir, 'list'), listed, 64 * 1024);

  const runs: Record<string, number[][]> = { download: [], verifyShoal: [], verifyTr: [] };
  const manyRuns: { daemon: ManyResult; oneShot: ManyResult }[] = [];
  const listRuns: { shoal: number; transmission: number }[] = [];
  for (let r = 0; r < ctx.runs; r++) {
    log(`run ${r + 1}/${ctx.runs}: download`);
    runs.download!.push(await downloadLeg(ctx, downloadSize));
    log(`run ${r + 1}/${ctx.runs}: verify`);
    runs.verifyShoal!.push(await verifyLeg(ctx, 'shoal', verifySize));
    runs.verifyTr!.push(await verifyLeg(ctx, 'transmission', verifySize));
    log(`run ${r + 1}/${ctx.runs}: ${many} torrents`);
    const inDaemon = await manyInDaemon(ctx, seeds, path.join(zeroDir, 'seed'));
    const oneShot = await manyOneShot(seeds, path.join(zeroDir, 'seed'));
    manyRuns.push({ daemon: inDaemon, oneShot });
    log(`run ${r + 1}/${ctx.runs}: torrent-get of ${listed}`);
    listRuns.push({
      shoal: await thousandLeg(ctx, 'shoal', paused, path.join(zeroDir, 'list')),
      transmission: await thousandLeg(ctx, 'transmission', paused, path.join(zeroDir, 'list')),
    });
  }

  const med = (legs: number[][], p: number) =>
    median(legs.map((samples) => percentile(samples, p)));
  const latencyRows = [
    [
      'shoal daemon',
      `download ${downloadSize / MiB} MiB`,
      fmt(med(runs.download!, 50)),
      fmt(med(runs.download!, 99)),
      String(median(runs.download!.map((s) => s.length))),
    ],
    ['transmission-daemon', 'download', 'n/a', 'n/a', 'refuses 127.x peers'],
    [
      'shoal daemon',
      `verify ${verifySize / MiB} MiB`,
      fmt(med(runs.verifyShoal!, 50)),
      fmt(med(runs.verifyShoal!, 99)),
      String(median(runs.verifyShoal!.map((s) => s.length))),
    ],
    [
      'transmission-daemon',
      `verify ${verifySize / MiB} MiB`,
      fmt(med(runs.verifyTr!, 50)),
      fmt(med(runs.verifyTr!, 99)),
      String(median(runs.verifyTr!.map((s) => s.length))),
    ],
  ];
  const daemonRss = median(manyRuns.map((m) => m.daemon.rssMiB));
  const oneShotRss = median(manyRuns.map((m) => m.oneShot.rssMiB));
  const fiveOneShot = (oneShotRss / many) * 5;
  const manyRows = [
    [
      `1 shoal daemon, ${many} torrents`,
      fmt(daemonRss, 0),
      fmt(median(manyRuns.map((m) => m.daemon.idleCpuSeconds))),
    ],
    [
      `${many} shoal seed processes`,
      fmt(oneShotRss, 0),
      fmt(median(manyRuns.map((m) => m.oneShot.idleCpuSeconds))),
    ],
    ['5 shoal seed processes (from the above)', fmt(fiveOneShot, 0), ''],
  ];
  const listRows = [
    ['shoal daemon', fmt(median(listRuns.map((l) => l.shoal)))],
    ['transmission-daemon', fmt(median(listRuns.map((l) => l.transmission)))],
  ];
  const file = await writeResults(ctx, 'daemon', {
    downloadSize,
    verifySize,
    many,
    listed,
    latency: runs,
    many_: manyRuns,
    list: listRuns,
  });
  return [
    `### daemon: torrent-get latency (ms, medians of ${ctx.runs} runs)`,
    markdownTable(['daemon', 'while', 'p50', 'p99', 'calls'], latencyRows),
    '',
    `### daemon: ${many} torrents seeding (RSS sum MiB; CPU s over 10 s idle)`,
    markdownTable(['what', 'RSS MiB', 'idle CPU s'], manyRows),
    `goal (one daemon with ${many} torrents below 5 one-shot processes): ${daemonRss < fiveOneShot ? 'met' : 'missed'} (${fmt(daemonRss / fiveOneShot)}x)`,
    '',
    `### daemon: torrent-get of ${listed} paused torrents (ms, median of 11 calls, median of runs)`,
    markdownTable(['daemon', 'ms'], listRows),
    '',
    `results: ${file}`,
  ].join('\n');
}
