/**
 * `webseed`: one 1 GiB file (128 MiB with --quick, 1 MiB pieces) whose
 * .torrent names a web seed (BEP 19 `url-list`) on 127.0.0.1, and no peers.
 * Downloaded by the real commands, alternating, in the same run:
 * `shoal download X.torrent -o DIR` (DHT and LSD off) and
 * `aria2c X.torrent` (DHT, LSD and PEX off), each given the same .torrent.
 * Every result is compared byte for byte with the source.
 *
 * The server is the tests' Node file server (test/helpers/http-file-server.ts,
 * Range and keep-alive) in its own process; each client is its own process
 * too, timed with /usr/bin/time like every benchmark here.
 *
 * The mixed case (one web seed plus two libtorrent seeders) is
 * bench/webseed-mixed.ts; it uses the helpers exported here.
 *
 * Standalone: node_modules/.bin/node bench/webseed.ts [--quick] [--runs N]
 * Internal mode (the benchmark starts it): --serve DIR PORT.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHttpFileServer } from '../test/helpers/http-file-server.ts';
import {
  NODE24,
  fmt,
  freePort,
  log,
  markdownTable,
  medianWall,
  okSamples,
  peakRssMiB,
  rotation,
  shoalBuilds,
  waitForTcp,
  writeResults,
  type Context,
  type Row,
} from './lib/common.ts';
import { GiB, MiB, singleFile, warm, type DataSet } from './lib/data.ts';
import { Proc, killAll, measure, run } from './lib/procs.ts';

const SELF = fileURLToPath(import.meta.url);
/** 2^20: 1 MiB pieces, as in the download benchmark's big file. */
const PIECE_EXPONENT = 20;

/** `--serve DIR PORT`: serve DIR until killed. */
async function serve(dir: string, port: number): Promise<void> {
  await startHttpFileServer(path.resolve(dir), { port });
  process.stdout.write(`listening on ${port}\n`);
}

/** The HTTP file server in its own process, serving `dir`; its base URL. */
export async function startWebSeedServer(dir: string): Promise<{ proc: Proc; base: string }> {
  const port = await freePort();
  const proc = new Proc(NODE24, [SELF, '--serve', dir, String(port)]);
  await waitForTcp(port, 30_000);
  return { proc, base: `http://127.0.0.1:${port}/` };
}

/** A .torrent of `set` (one file) whose url-list is `webSeed`, with `announce` if given. */
export async function webSeedTorrent(
  set: DataSet,
  file: string,
  webSeed: string,
  announce?: string,
): Promise<string> {
  await rm(file, { force: true });
  await run('mktorrent', [
    '-d',
    '-l',
    String(PIECE_EXPONENT),
    '-w',
    webSeed,
    ...(announce ? ['-a', announce] : []),
    '-o',
    file,
    set.root,
  ]);
  return file;
}

export interface Leecher {
  label: string;
  command: (torrent: string, out: string) => Promise<{ cmd: string; args: string[] }>;
}

/** shoal (dev and, when built, dist) and aria2c, each downloading a .torrent into `out`. */
export function torrentLeechers(): Leecher[] {
  const list: Leecher[] = shoalBuilds().map((build) => ({
    label: build.label,
    command: async (torrent, out) => ({
      cmd: build.cmd,
      args: [
        ...build.args,
        'download',
        torrent,
        '-o',
        out,
        '--no-dht',
        '--no-lsd',
        '--quiet',
        '--timeout',
        '300s',
        '--port',
        String(await freePort()),
      ],
    }),
  }));
  list.push({
    label: 'aria2c',
    command: async (torrent, out) => ({
      cmd: 'aria2c',
      args: [
        `--dir=${out}`,
        '--seed-time=0',
        '--enable-dht=false',
        '--enable-dht6=false',
        '--bt-enable-lpd=false',
        '--enable-peer-exchange=false',
        '--file-allocation=none',
        `--listen-port=${await freePort()}`,
        '--disable-ipv6=true',
        '--quiet=true',
        '--summary-interval=0',
        '--bt-save-metadata=false',
        '--bt-stop-timeout=300',
        '--allow-overwrite=true',
        torrent,
      ],
    }),
  });
  return list;
}

/**
 * `runs` rounds of every leecher (order rotated each round) downloading
 * `torrent` into a fresh directory; each result compared with `set`.
 */
export async function runLeechers(
  ctx: Context,
  caseLabel: string,
  set: DataSet,
  torrent: string,
  list: Leecher[],
): Promise<Row[]> {
  const rows: Row[] = list.map((l) => ({ case: caseLabel, tool: l.label, samples: [] }));
  const out = path.join(ctx.scratch, `${caseLabel}-out`);
  const received = path.join(out, path.basename(set.root));
  try {
    for (let r = 0; r < ctx.runs; r++) {
      for (const i of rotation(
        list.map((_, i) => i),
        r,
      )) {
        const leecher = list[i]!;
        await rm(out, { recursive: true, force: true });
        await mkdir(out, { recursive: true });
        await warm(set);
        const { cmd, args } = await leecher.command(torrent, out);
        const result = await measure(cmd, args, { timeoutMs: 320_000 });
        let ok = result.code === 0 && !result.timedOut;
        if (ok)
          ok = await run('cmp', [set.root, received]).then(
            () => true,
            () => false,
          );
        if (!ok) log(`${leecher.label} failed: ${result.stderr.slice(-400)}`);
        log(`${caseLabel} ${leecher.label}: ${result.wall.toFixed(2)} s${ok ? '' : ' (failed)'}`);
        rows[i]!.samples.push({ wall: result.wall, rssKiB: result.rssKiB, ok });
      }
    }
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  return rows;
}

/** The table of a run: median wall time and rate per tool, and each tool against aria2c. */
export function resultTable(rows: Row[], size: number): string {
  const aria = rows.find((row) => row.tool === 'aria2c');
  const ariaWall = aria ? medianWall(aria) : NaN;
  return markdownTable(
    ['client', 'runs ok', 'median s', 'MiB/s', '× aria2c (rate)', 'peak RSS MiB'],
    rows.map((row) => {
      const wall = medianWall(row);
      return [
        row.tool,
        `${okSamples(row).length}/${row.samples.length}`,
        fmt(wall),
        fmt(size / MiB / wall, 0),
        fmt(ariaWall / wall),
        fmt(peakRssMiB(row), 0),
      ];
    }),
  );
}

export async function benchWebseed(ctx: Context): Promise<string> {
  const size = ctx.quick ? 128 * MiB : GiB;
  const set = await singleFile(ctx.scratch, 'webseed', size, ctx.seed);
  const server = await startWebSeedServer(set.parent);
  try {
    const url = server.base + encodeURIComponent(path.basename(set.root));
    const torrent = await webSeedTorrent(set, path.join(ctx.scratch, 'webseed.torrent'), url);
    const rows = await runLeechers(ctx, 'webseed', set, torrent, torrentLeechers());
    const file = await writeResults(ctx, 'webseed', { size, pieceExponent: PIECE_EXPONENT, rows });
    log(`results: ${file}`);
    return `### webseed (${size / MiB} MiB, one web seed on 127.0.0.1, no peers, ${ctx.runs} runs alternating)\n\n${resultTable(rows, size)}\n`;
  } finally {
    await server.proc.stop('SIGTERM');
  }
}

/** Standalone entry shared with bench/webseed-mixed.ts. */
export async function standalone(
  bench: (ctx: Context) => Promise<string>,
  argv: string[],
  scratch: string,
): Promise<void> {
  const runsAt = argv.indexOf('--runs');
  const ctx: Context = {
    quick: argv.includes('--quick'),
    keep: false,
    seed: 1,
    runs: runsAt >= 0 ? Number(argv[runsAt + 1]) : 3,
    scratch,
  };
  try {
    process.stdout.write(await bench(ctx));
  } finally {
    await killAll(1000, true);
    await rm(ctx.scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--serve') await serve(argv[1]!, Number(argv[2]));
  else await standalone(benchWebseed, argv, '/tmp/shoal-bench-webseed');
}
