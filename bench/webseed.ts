/**
 * `webseed`: one 1 GiB file (128 MiB with --quick) fetched from an HTTP server
 * on 127.0.0.1 by shoal's WebSeedPool (1 MiB pieces, written to disk with
 * positional writes) against aria2c downloading the same URL, alternating,
 * in the same run. aria2c runs twice: with its defaults (one connection per
 * server) and with -x4 -s4 (as many connections as shoal's default
 * maxInFlight). Every result is compared byte for byte with the source.
 *
 * The server is the tests' Node file server (test/helpers/http-file-server.ts)
 * in its own process; each client is its own process too, timed with
 * /usr/bin/time like every benchmark here. This measures the HTTP side only:
 * no hashing, no torrent session (the engine wiring is not in yet).
 *
 * Standalone: node_modules/.bin/node bench/webseed.ts [--quick] [--runs N]
 * Internal modes (the benchmark starts them): --serve DIR PORT,
 * --client URL OUT SIZE PIECE_LENGTH.
 */
import { open, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultWebSeedOptions } from '../src/core/webseed/web-seed.ts';
import { WebSeedPool } from '../src/core/webseed/web-seed-pool.ts';
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
  waitForTcp,
  writeResults,
  type Context,
  type Row,
} from './lib/common.ts';
import { GiB, MiB, singleFile } from './lib/data.ts';
import { Proc, killAll, measure, run } from './lib/procs.ts';

const SELF = fileURLToPath(import.meta.url);
const ARIA2C = '/usr/bin/aria2c';
const PIECE = MiB;

/** `--serve DIR PORT`: serve DIR until killed. */
async function serve(dir: string, port: number): Promise<void> {
  await startHttpFileServer(path.resolve(dir), { port });
  process.stdout.write(`listening on ${port}\n`);
}

/**
 * `--client URL OUT SIZE PIECE`: fetch the whole file through a WebSeedPool,
 * keeping every request slot busy (twice maxInFlight pieces outstanding), and
 * write each piece at its offset.
 */
async function client(url: string, out: string, size: number, pieceLength: number): Promise<void> {
  const pieceCount = Math.ceil(size / pieceLength);
  const name = path.basename(out);
  const torrent = {
    name,
    multiFile: false,
    files: [{ path: [name], length: size, offset: 0, padding: false }],
    pieceLength,
    pieceCount,
    spaceSize: size,
  };
  const { pool } = WebSeedPool.fromUrls([url], torrent);
  const file = await open(out, 'w');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pieceCount) {
      const index = next++;
      const length = Math.min(pieceLength, size - index * pieceLength);
      const { data } = await pool.fetch(index, 0, length);
      await file.write(data, 0, data.length, index * pieceLength);
    }
  };
  await Promise.all(Array.from({ length: 2 * defaultWebSeedOptions.maxInFlight }, worker));
  await file.close();
  pool.close();
  process.stdout.write(`${JSON.stringify(pool.stats()[0])}\n`);
}

interface Client {
  label: string;
  command: (url: string, out: string) => { cmd: string; args: string[] };
}

function clients(size: number): Client[] {
  const aria = (extra: string[]) => (url: string, out: string) => ({
    cmd: ARIA2C,
    args: [
      ...extra,
      '--dir',
      path.dirname(out),
      '--out',
      path.basename(out),
      '--allow-overwrite=true',
      '--auto-file-renaming=false',
      '--file-allocation=none',
      '--console-log-level=warn',
      '--summary-interval=0',
      '--check-certificate=false',
      url,
    ],
  });
  return [
    {
      label: 'shoal WebSeedPool (4 in flight)',
      command: (url, out) => ({
        cmd: NODE24,
        args: [SELF, '--client', url, out, String(size), String(PIECE)],
      }),
    },
    { label: 'aria2c (defaults)', command: aria([]) },
    { label: 'aria2c -x4 -s4', command: aria(['-x4', '-s4']) },
  ];
}

export async function benchWebseed(ctx: Context): Promise<string> {
  const size = ctx.quick ? 128 * MiB : GiB;
  const data = await singleFile(ctx.scratch, 'webseed', size, ctx.seed);
  const port = await freePort();
  const server = new Proc(NODE24, [SELF, '--serve', data.parent, String(port)]);
  await waitForTcp(port, 30_000);
  const url = `http://127.0.0.1:${port}/${encodeURIComponent(path.basename(data.root))}`;
  const list = clients(size);
  const rows: Row[] = list.map((c) => ({ case: 'webseed', tool: c.label, samples: [] }));
  const out = path.join(ctx.scratch, 'webseed-out', 'file.bin');
  await run('mkdir', ['-p', path.dirname(out)]);
  try {
    for (let r = 0; r < ctx.runs; r++) {
      for (const c of rotation(list, r)) {
        await rm(out, { force: true });
        const { cmd, args } = c.command(url, out);
        const result = await measure(cmd, args, { timeoutMs: 600_000 });
        let ok = result.code === 0 && !result.timedOut;
        if (ok)
          ok = await run('cmp', [data.root, out]).then(
            () => true,
            () => false,
          );
        if (!ok) log(`${c.label} failed: ${result.stderr.slice(-400)}`);
        log(`${c.label}: ${result.wall.toFixed(2)} s${ok ? '' : ' (failed)'}`);
        rows
          .find((row) => row.tool === c.label)!
          .samples.push({
            wall: result.wall,
            rssKiB: result.rssKiB,
            ok,
          });
      }
    }
  } finally {
    await server.stop('SIGTERM');
    await rm(out, { force: true });
  }
  const file = await writeResults(ctx, 'webseed', { size, pieceLength: PIECE, rows });
  log(`results: ${file}`);
  const table = markdownTable(
    ['client', 'runs ok', 'median s', 'MiB/s', 'peak RSS MiB'],
    rows.map((row) => {
      const wall = medianWall(row);
      return [
        row.tool,
        `${okSamples(row).length}/${row.samples.length}`,
        fmt(wall),
        fmt(size / MiB / wall, 0),
        fmt(peakRssMiB(row), 0),
      ];
    }),
  );
  return `### webseed (${size / MiB} MiB from one HTTP server on 127.0.0.1)\n\n${table}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  const argv = process.argv.slice(2);
  if (argv[0] === '--serve') {
    await serve(argv[1]!, Number(argv[2]));
  } else if (argv[0] === '--client') {
    await client(argv[1]!, argv[2]!, Number(argv[3]), Number(argv[4]));
  } else {
    const runsAt = argv.indexOf('--runs');
    const ctx: Context = {
      quick: argv.includes('--quick'),
      keep: false,
      seed: 1,
      runs: runsAt >= 0 ? Number(argv[runsAt + 1]) : 3,
      scratch: '/tmp/shoal-bench-webseed',
    };
    try {
      process.stdout.write(await benchWebseed(ctx));
    } finally {
      await killAll(1000, true);
      await rm(ctx.scratch, { recursive: true, force: true });
    }
  }
}
