/**
 * `transports`: what encryption (MSE/PE) and uTP cost a download. One file
 * (1 GiB, or 128 MiB with --quick; 1 MiB pieces) seeded by a python3-libtorrent
 * seeder on loopback in each mode, downloaded alternately by shoal and by a
 * libtorrent leecher in the same mode:
 *
 *   TCP plaintext         shoal --transport tcp --encryption off    lt leecher, defaults
 *   TCP, RC4 forced       shoal --transport tcp --encryption require lt leecher, encryption forced
 *   uTP only              shoal --transport utp --encryption off    lt leecher, TCP off
 *
 * and a smaller file (32 MiB, 8 MiB with --quick) over uTP through a UDP relay
 * dropping 1% of datagrams with 20 ms delay each way, next to the same file
 * over loopback TCP. Every result is compared byte for byte with the source.
 *
 * Next to each download, the leecher's CPU seconds per GiB (user + system,
 * from /usr/bin/time) and the CPU seconds the seeder spent on it: all its
 * threads, and its busiest one (libtorrent's network thread, which does the
 * RC4). With RC4 that thread bounds what any leecher can get from one
 * libtorrent seeder (docs/ENCRYPTION.md, "What bounds an encrypted download").
 *
 * `BENCH_TRANSPORTS=rc4,plaintext` runs only the modes whose label holds one
 * of the words (and the lossy relay only when `lossy` is one of them);
 * `BENCH_SHOAL=path` measures that shoal executable (a before/after build).
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  LT_PY,
  PYTHON,
  fmt,
  freePort,
  log,
  markdownTable,
  median,
  primaryShoal,
  writeResults,
  type Context,
} from './lib/common.ts';
import { GiB, MiB, singleFile, warm, type DataSet } from './lib/data.ts';
import { Proc, measure, run, type RunResult } from './lib/procs.ts';
import { startUdpRelay } from '../test/helpers/udp-relay.ts';

interface Mode {
  label: string;
  ltFlags: string[];
  shoalFlags: string[];
}

/** The modes BENCH_TRANSPORTS picks (all when unset), and whether it picks the lossy relay. */
function chosen(label: string): boolean {
  const words = (process.env.BENCH_TRANSPORTS ?? '').toLowerCase().split(',').filter(Boolean);
  return words.length === 0 || words.some((word) => label.toLowerCase().includes(word));
}

/** The shoal measured: BENCH_SHOAL, or the repository's build. */
function shoalBuild(): { cmd: string; args: string[]; label: string } {
  const bin = process.env.BENCH_SHOAL;
  return bin ? { cmd: bin, args: [], label: bin } : primaryShoal();
}

/**
 * Runs `cmd` under a second /usr/bin/time that writes the CPU seconds (user +
 * system) it used: the harness's own one reports only wall time and peak RSS.
 */
async function measureWithCpu(
  cmd: string,
  args: string[],
): Promise<RunResult & { cpuSeconds: number }> {
  const file = path.join(os.tmpdir(), `shoal-bench-cpu-${process.pid}-${Date.now()}`);
  const result = await measure('/usr/bin/time', ['-f', '%U %S', '-o', file, cmd, ...args]);
  const text = await readFile(file, 'utf8').catch(() => '');
  await rm(file, { force: true });
  const [user, system] = text.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { ...result, cpuSeconds: (user ?? Number.NaN) + (system ?? Number.NaN) };
}

const MODES: Mode[] = [
  {
    label: 'TCP plaintext',
    ltFlags: [],
    shoalFlags: ['--transport', 'tcp', '--encryption', 'off'],
  },
  {
    label: 'TCP, RC4 forced',
    ltFlags: ['--encryption', 'forced'],
    shoalFlags: ['--transport', 'tcp', '--encryption', 'require'],
  },
  {
    label: 'uTP only',
    ltFlags: ['--utp-only'],
    shoalFlags: ['--transport', 'utp', '--encryption', 'off'],
  },
];

async function startSeeder(
  scratch: string,
  torrent: string,
  data: DataSet,
  flags: string[],
): Promise<{ proc: Proc; port: number }> {
  const port = await freePort();
  const proc = new Proc(
    PYTHON,
    [LT_PY, 'seed', '--port', String(port), '--torrent', `${torrent}:${data.parent}`, ...flags],
    { logFile: path.join(scratch, `transports-seeder-${port}.log`), stdin: true },
  );
  await proc.waitForOutput('READY', 30_000);
  return { proc, port };
}

interface Sample {
  seconds: number;
  ok: boolean;
  /** The leecher's own CPU seconds (user + system). */
  cpuSeconds: number;
  /** CPU seconds the seeder spent meanwhile: all threads, and its busiest thread. */
  seederCpu?: { total: number; busiest: number };
}

/** Clock ticks per second of /proc's times (USER_HZ: 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

/** The seeder's threads' CPU ticks (user + system), by thread id. */
async function threadTicks(seeder: Proc): Promise<Map<string, number>> {
  const ticks = new Map<string, number>();
  // The Proc is /usr/bin/time; the seeder is its only child.
  const timePid = seeder.child.pid!;
  const children = await readFile(`/proc/${timePid}/task/${timePid}/children`, 'utf8');
  const pid = children.trim().split(/\s+/)[0];
  if (!pid) return ticks;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    // Fields after the command name (which may hold spaces): utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length > 12) ticks.set(tid, Number(fields[11]) + Number(fields[12]));
  }
  return ticks;
}

function cpuSpent(
  before: Map<string, number>,
  after: Map<string, number>,
): { total: number; busiest: number } {
  let total = 0;
  let busiest = 0;
  for (const [tid, ticks] of after) {
    const spent = ticks - (before.get(tid) ?? 0);
    total += spent;
    busiest = Math.max(busiest, spent);
  }
  return { total: total / TICKS_PER_SECOND, busiest: busiest / TICKS_PER_SECOND };
}

/** One download into a fresh folder; ok when it exited 0 and the bytes match. */
async function download(
  who: 'shoal' | 'libtorrent',
  torrent: string,
  data: DataSet,
  out: string,
  peer: number,
  flags: string[],
): Promise<Sample> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  const shoal = shoalBuild();
  const result =
    who === 'shoal'
      ? await measureWithCpu(shoal.cmd, [
          ...shoal.args,
          'download',
          torrent,
          '-o',
          out,
          '--peer',
          `127.0.0.1:${peer}`,
          '--no-dht',
          '--no-lsd',
          '--quiet',
          '--timeout',
          '120s',
          ...flags,
        ])
      : await measureWithCpu(PYTHON, [
          LT_PY,
          'leech',
          '--torrent',
          `${torrent}:${out}`,
          '--peer',
          `127.0.0.1:${peer}`,
          ...flags,
        ]);
  const same =
    result.code === 0 &&
    (await run('cmp', ['-s', data.root, path.join(out, data.files[0].path)]).then(
      () => true,
      () => false,
    ));
  if (!same) log(`transports: ${who} ${flags.join(' ')} failed: ${result.stderr.slice(-400)}`);
  await rm(out, { recursive: true, force: true });
  return { seconds: result.wall, ok: same, cpuSeconds: result.cpuSeconds };
}

function rate(bytes: number, samples: Sample[]): { seconds: number; mibs: number } | null {
  const ok = samples.filter((s) => s.ok).map((s) => s.seconds);
  if (ok.length === 0) return null;
  const seconds = median(ok);
  return { seconds, mibs: bytes / MiB / seconds };
}

export async function benchTransports(ctx: Context): Promise<string> {
  const size = ctx.quick ? 128 * MiB : GiB;
  const lossySize = ctx.quick ? 8 * MiB : 32 * MiB;
  const big = await singleFile(ctx.scratch, 'transports-big', size, ctx.seed);
  const small = await singleFile(ctx.scratch, 'transports-lossy', lossySize, ctx.seed);
  const shoal = shoalBuild();
  const torrents: Record<string, string> = {};
  for (const set of [big, small]) {
    torrents[set.name] = path.join(ctx.scratch, `${set.name}.torrent`);
    await run(shoal.cmd, [
      ...shoal.args,
      'create',
      set.root,
      '-o',
      torrents[set.name],
      '--piece-length',
      '1MiB',
      '--no-date',
      '--force',
      '--quiet',
    ]);
  }
  await warm(big);
  const out = path.join(ctx.scratch, 'transports-out');

  const rows: string[][] = [];
  const results: Record<string, unknown> = {};
  for (const mode of MODES.filter((m) => chosen(m.label))) {
    const seeder = await startSeeder(ctx.scratch, torrents[big.name], big, mode.ltFlags);
    const samples: Record<'shoal' | 'libtorrent', Sample[]> = { shoal: [], libtorrent: [] };
    for (let i = 0; i < ctx.runs; i++) {
      // Alternating, so a noisy neighbour on the shared machine hits both alike.
      const order: ('shoal' | 'libtorrent')[] =
        i % 2 ? ['libtorrent', 'shoal'] : ['shoal', 'libtorrent'];
      for (const who of order) {
        const flags = who === 'shoal' ? mode.shoalFlags : mode.ltFlags;
        const before = await threadTicks(seeder.proc);
        const sample = await download(who, torrents[big.name], big, out, seeder.port, flags);
        sample.seederCpu = cpuSpent(before, await threadTicks(seeder.proc));
        log(
          `transports: ${mode.label} ${who} ${fmt(sample.seconds)} s, CPU ${fmt(sample.cpuSeconds)} s, seeder CPU ${fmt(sample.seederCpu.total)} s (busiest thread ${fmt(sample.seederCpu.busiest)} s) ${sample.ok ? '' : 'FAILED'}`,
        );
        samples[who].push(sample);
      }
    }
    await seeder.proc.stop('SIGTERM');
    for (const who of ['shoal', 'libtorrent'] as const) {
      const r = rate(size, samples[who]);
      results[`${mode.label} / ${who}`] = { samples: samples[who], ...r };
      const cpu = (pick: 'total' | 'busiest') =>
        fmt(median(samples[who].map((sample) => sample.seederCpu?.[pick] ?? Number.NaN)));
      rows.push([
        mode.label,
        who,
        `${size / MiB} MiB`,
        r ? fmt(r.seconds) : 'failed',
        r ? fmt(r.mibs, 0) : '-',
        fmt(median(samples[who].filter((s) => s.ok).map((s) => s.cpuSeconds)) / (size / GiB)),
        cpu('total'),
        cpu('busiest'),
        `${samples[who].filter((s) => s.ok).length}/${samples[who].length}`,
      ]);
    }
  }

  const lossy = chosen('lossy')
    ? await benchLossy(ctx, small, torrents[small.name], out, results)
    : [];
  await writeResults(ctx, 'transports', results);

  return [
    `### transports (${shoal.label}, median of ${ctx.runs})`,
    '',
    markdownTable(
      [
        'mode',
        'leecher',
        'data',
        'seconds',
        'MiB/s',
        'leecher CPU s/GiB',
        'seeder CPU s',
        'seeder busiest thread CPU s',
        'ok',
      ],
      rows,
    ),
    ...(lossy.length > 0
      ? ['', markdownTable(['path', 'data', 'seconds', 'MiB/s', 'ok'], lossy)]
      : []),
  ].join('\n');
}

/** uTP through a lossy relay next to TCP on loopback, the same small file: the table's rows. */
async function benchLossy(
  ctx: Context,
  small: DataSet,
  torrent: string,
  out: string,
  results: Record<string, unknown>,
): Promise<string[][]> {
  const lossySize = small.totalSize;
  const lossy: string[][] = [];
  const utpSeeder = await startSeeder(ctx.scratch, torrent, small, ['--utp-only']);
  const relay = await startUdpRelay({
    target: { host: '127.0.0.1', port: utpSeeder.port },
    lossRate: 0.01,
    delayMs: 20,
    seed: ctx.seed,
  });
  const tcpSeeder = await startSeeder(ctx.scratch, torrent, small, []);
  const paths: [string, number, string[]][] = [
    ['uTP, relay 1% loss 20 ms', relay.port, ['--transport', 'utp', '--encryption', 'off']],
    ['TCP, loopback', tcpSeeder.port, ['--transport', 'tcp', '--encryption', 'off']],
  ];
  for (const [label, port, flags] of paths) {
    const samples: Sample[] = [];
    for (let i = 0; i < ctx.runs; i++) {
      samples.push(await download('shoal', torrent, small, out, port, flags));
      log(`transports: ${label} ${fmt(samples.at(-1)!.seconds)} s`);
    }
    const r = rate(lossySize, samples);
    results[`lossy / ${label}`] = { samples, ...r };
    lossy.push([
      label,
      `${lossySize / MiB} MiB`,
      r ? fmt(r.seconds) : 'failed',
      r ? fmt(r.mibs, 1) : '-',
      `${samples.filter((s) => s.ok).length}/${samples.length}`,
    ]);
  }
  results['relay'] = relay.stats;
  await relay.close();
  await utpSeeder.proc.stop('SIGTERM');
  await tcpSeeder.proc.stop('SIGTERM');
  return lossy;
}
