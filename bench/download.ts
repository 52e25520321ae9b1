/**
 * `download`: one big file (1 MiB pieces) and a tree (256 KiB pieces) seeded by
 * three python3-libtorrent seeders on loopback, found through opentracker.
 * Leechers, alternating: shoal, aria2c, transmission-cli (killed once its
 * finish script runs), and a python3-libtorrent leecher. Every result is
 * compared byte for byte with the source. Then seeding: a libtorrent leecher
 * downloading the big file from `shoal seed` versus from a libtorrent seeder.
 */
import { chmod, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  LT_PY,
  PYTHON,
  fmt,
  freePort,
  log,
  markdownTable,
  median,
  medianWall,
  okSamples,
  peakRssMiB,
  primaryShoal,
  rotation,
  shoalBuilds,
  waitForTcp,
  writeResults,
  type Context,
  type Row,
} from './lib/common.ts';
import { GiB, MiB, singleFile, tree, warm, type DataSet } from './lib/data.ts';
import { Proc, measure, run, sleep, type MeasureOptions } from './lib/procs.ts';
import { startSeeders, startTracker, trackerPort } from './lib/swarm.ts';
import { torrentFacts } from './lib/torrent.ts';

interface Leecher {
  label: string;
  /** The command for one run into `out`; may prepare files in `work`. */
  prepare: (
    torrent: string,
    out: string,
    work: string,
  ) => Promise<{
    cmd: string;
    args: string[];
    options?: MeasureOptions;
    /**
     * Transmission 3 never connects to 127.0.0.0/8 peers a tracker hands out
     * ("martian" addresses): the seeders are told to connect to this port instead.
     */
    seedersConnectTo?: number;
  }>;
}

/**
 * `BENCH_LEECHERS=shoal,libtorrent` keeps only the leechers whose label
 * contains one of the words: a before/after comparison of shoal need not wait
 * for transmission-cli's slow runs.
 */
function chosenLeechers(all: Leecher[]): Leecher[] {
  const words = (process.env.BENCH_LEECHERS ?? '').split(',').filter(Boolean);
  if (words.length === 0) return all;
  const kept = all.filter((l) => words.some((word) => l.label.includes(word)));
  if (kept.length === 0)
    throw new Error(`BENCH_LEECHERS=${process.env.BENCH_LEECHERS} matches no leecher`);
  return kept;
}

function leechers(): Leecher[] {
  const list: Leecher[] = shoalBuilds().map((build) => ({
    label: build.label,
    prepare: async (torrent, out) => ({
      cmd: build.cmd,
      args: [...build.args, 'download', torrent, '-o', out, '--quiet', '--timeout', '60s'],
    }),
  }));
  list.push({
    label: 'aria2c',
    prepare: async (torrent, out) => ({
      cmd: 'aria2c',
      args: [
        `--dir=${out}`,
        '--seed-time=0',
        '--enable-dht=false',
        '--enable-dht6=false',
        '--bt-enable-lpd=false',
        '--enable-peer-exchange=false',
        '--bt-max-peers=50',
        '--file-allocation=none',
        `--listen-port=${await freePort()}`,
        '--disable-ipv6=true',
        '--quiet=true',
        '--summary-interval=0',
        '--bt-save-metadata=false',
        '--bt-stop-timeout=60',
        '--allow-overwrite=true',
        torrent,
      ],
    }),
  });
  list.push({
    label: 'transmission-cli',
    prepare: async (torrent, out, work) => {
      const config = path.join(work, 'transmission');
      await mkdir(config, { recursive: true });
      const port = await freePort();
      await writeFile(
        path.join(config, 'settings.json'),
        JSON.stringify({
          'dht-enabled': false,
          'lpd-enabled': false,
          'pex-enabled': false,
          'utp-enabled': false,
          'port-forwarding-enabled': false,
          'blocklist-enabled': false,
          'bind-address-ipv4': '127.0.0.1',
          'bind-address-ipv6': '::1',
          'peer-port': port,
          'peer-port-random-on-start': false,
          'rename-partial-files': false,
          'speed-limit-down-enabled': false,
          'speed-limit-up-enabled': false,
          'peer-limit-global': 200,
          'peer-limit-per-torrent': 50,
          encryption: 0,
        }),
      );
      const marker = path.join(work, 'transmission-done');
      const script = path.join(work, 'transmission-done.sh');
      await writeFile(script, `#!/bin/sh\ntouch '${marker}'\n`);
      await chmod(script, 0o755);
      return {
        cmd: 'transmission-cli',
        args: [
          '-g',
          config,
          '-w',
          out,
          '-p',
          String(port),
          '-et',
          '-D',
          '-U',
          '-M',
          '-f',
          script,
          torrent,
        ],
        seedersConnectTo: port,
        options: {
          // It seeds forever once done: the finish script marks completion, then it is stopped.
          doneWhen: async () => {
            while (!existsSync(marker)) await sleep(20);
          },
        },
      };
    },
  });
  list.push({
    label: 'libtorrent',
    prepare: async (torrent, out) => ({
      cmd: PYTHON,
      args: [LT_PY, 'leech', '--torrent', `${torrent}:${out}`, '--timeout', '300'],
    }),
  });
  return list;
}

/** Polls the expected files' allocated blocks until the first byte lands. */
function firstBytePoller(
  set: DataSet,
  out: string,
): { start: (proc: Proc) => void; result: () => number | null } {
  let first: number | null = null;
  const targets = set.single
    ? [path.join(out, path.basename(set.root))]
    : set.files.map((f) => path.join(out, set.name, f.path));
  return {
    start(proc) {
      const tick = async () => {
        while (first === null && !proc.endedAt) {
          for (const file of targets) {
            const st = await stat(file).catch(() => null);
            if (st && st.blocks > 0) {
              first = (performance.now() - proc.started) / 1000;
              return;
            }
          }
          await sleep(20);
        }
      };
      void tick();
    },
    result: () => first,
  };
}

async function sameBytes(set: DataSet, out: string): Promise<boolean> {
  const pairs: [string, string][] = set.single
    ? [[set.root, path.join(out, path.basename(set.root))]]
    : set.files.map((f) => [path.join(set.root, f.path), path.join(out, set.name, f.path)]);
  for (const [a, b] of pairs) {
    try {
      await run('cmp', ['-s', a, b]);
    } catch {
      log(`  MISMATCH: ${b}`);
      return false;
    }
  }
  return true;
}

function summarize(rows: Row[], size: number): void {
  const find = (label: string) => rows.find((row) => row.tool === label);
  const lt = find('libtorrent');
  const aria = find('aria2c');
  for (const row of rows) {
    const wall = medianWall(row);
    row.medianSeconds = wall;
    row.mbPerSecond = size / 1e6 / wall;
    row.firstByteSeconds = median(
      okSamples(row)
        .map((s) => s.firstByte as number | null)
        .filter((v): v is number => v !== null),
    );
    row.peakRssMiB = peakRssMiB(row);
    row.speedVsLibtorrent = lt ? (row.mbPerSecond as number) / (size / 1e6 / medianWall(lt)) : null;
    row.speedVsAria2c = aria ? (row.mbPerSecond as number) / (size / 1e6 / medianWall(aria)) : null;
  }
}

export async function benchDownload(ctx: Context): Promise<string> {
  const big = await singleFile(ctx.scratch, 'dlbig', ctx.quick ? 128 * MiB : GiB, ctx.seed);
  const small = ctx.quick
    ? await tree(ctx.scratch, 'dltree', 50, 40 * MiB, ctx.seed)
    : await tree(ctx.scratch, 'dltree', 200, 300 * MiB, ctx.seed);
  const cases: { set: DataSet; exponent: number; torrent: string; infoHash: string }[] = [
    { set: big, exponent: 20, torrent: '', infoHash: '' },
    { set: small, exponent: 18, torrent: '', infoHash: '' },
  ];
  const port = await trackerPort();
  const announce = `http://127.0.0.1:${port}/announce`;
  for (const c of cases) {
    c.torrent = path.join(ctx.scratch, `${c.set.name}.torrent`);
    await rm(c.torrent, { force: true });
    await run('mktorrent', [
      '-d',
      '-l',
      String(c.exponent),
      '-a',
      announce,
      '-o',
      c.torrent,
      c.set.root,
    ]);
    c.infoHash = (await torrentFacts(c.torrent)).infoHash;
    await warm(c.set);
  }
  const tracker = await startTracker(
    ctx.scratch,
    port,
    cases.map((c) => c.infoHash),
  );
  const swarm = await startSeeders(
    ctx.scratch,
    3,
    cases.map((c) => `${c.torrent}:${c.set.parent}`),
    tracker,
    cases.map((c) => c.infoHash),
  );
  const list = chosenLeechers(leechers());
  const allRows: Row[] = [];
  const work = path.join(ctx.scratch, 'dl-work');
  for (const c of cases) {
    const label = `${c.set.name}: ${(c.set.totalSize / MiB).toFixed(0)} MiB / ${c.set.files.length} files, ${2 ** (c.exponent - 10)} KiB pieces`;
    log(`download: ${label}`);
    const rows: Row[] = list.map((l) => ({ case: label, tool: l.label, samples: [] }));
    for (let r = 0; r < ctx.runs; r++) {
      for (const i of rotation(
        list.map((_, i) => i),
        r,
      )) {
        const leecher = list[i]!;
        await rm(work, { recursive: true, force: true });
        const out = path.join(work, 'out');
        await mkdir(out, { recursive: true });
        const { cmd, args, options, seedersConnectTo } = await leecher.prepare(
          c.torrent,
          out,
          work,
        );
        const poller = firstBytePoller(c.set, out);
        const result = await measure(cmd, args, {
          timeoutMs: ctx.quick ? 120_000 : 300_000,
          ...options,
          onStart: (proc) => {
            poller.start(proc);
            if (seedersConnectTo !== undefined) {
              // Repeated until the first byte.
              void (async () => {
                // Its log is block-buffered on a pipe, so readiness cannot be read from it:
                // connect once a second (the seeders' reconnect back-off is set to 1 s).
                await waitForTcp(seedersConnectTo, 30_000).catch(() => undefined);
                while (!proc.endedAt && poller.result() === null) {
                  for (const seeder of swarm.procs) {
                    seeder.send(`connect 127.0.0.1:${seedersConnectTo}`);
                  }
                  await sleep(1000);
                }
              })();
            }
          },
        });
        let ok = result.code === 0 && !result.timedOut;
        if (!ok)
          log(
            `  ${leecher.label} failed (code ${result.code}, timeout ${result.timedOut}): ${result.stderr.slice(-400)}`,
          );
        if (ok) ok = await sameBytes(c.set, out);
        rows[i]!.samples.push({
          wall: result.wall,
          rssKiB: result.rssKiB,
          ok,
          firstByte: poller.result(),
        });
        log(
          `  run ${r + 1}/${ctx.runs} ${leecher.label}: ${result.wall.toFixed(2)} s, ${(c.set.totalSize / 1e6 / result.wall).toFixed(0)} MB/s, first byte ${fmt(poller.result())} s, ${ok ? 'bytes equal' : 'FAILED'}`,
        );
      }
    }
    summarize(rows, c.set.totalSize);
    allRows.push(...rows);
  }
  await rm(work, { recursive: true, force: true });
  for (const proc of swarm.procs) await proc.stop('SIGTERM', 3000);
  await tracker.proc.stop('SIGTERM', 2000);

  const seeding = await benchSeeding(ctx, big);

  const table = markdownTable(
    [
      'data',
      'leecher',
      'median MB/s',
      'median s',
      'first byte s',
      'peak RSS MiB',
      'x libtorrent',
      'x aria2c',
      'ok runs',
    ],
    allRows.map((row) => [
      row.case,
      row.tool,
      fmt(row.mbPerSecond as number, 0),
      fmt(row.medianSeconds as number),
      fmt(row.firstByteSeconds as number),
      fmt(row.peakRssMiB as number | null, 0),
      fmt(row.speedVsLibtorrent as number | null),
      fmt(row.speedVsAria2c as number | null),
      `${okSamples(row).length}/${row.samples.length}`,
    ]),
  );
  const file = await writeResults(ctx, 'download', { rows: allRows, seeding: seeding.rows });
  return `### download (3 libtorrent seeders via opentracker on loopback, ${ctx.runs} runs each, alternating; MB/s = 10^6 bytes/s from launch to exit)\n\n${table}\n\n${seeding.table}\n\nresults: ${path.relative(process.cwd(), file)}\n`;
}

/** A libtorrent leecher fetching the big file from `shoal seed` vs from a libtorrent seeder. */
async function benchSeeding(ctx: Context, set: DataSet): Promise<{ rows: Row[]; table: string }> {
  log('seeding: libtorrent leecher from shoal seed vs from a libtorrent seeder');
  const torrent = path.join(ctx.scratch, 'seeding.torrent');
  await rm(torrent, { force: true });
  await run('mktorrent', ['-d', '-l', '20', '-o', torrent, set.root]);
  const shoal = primaryShoal();
  const shoalPort = await freePort();
  const shoalSeed = new Proc(
    shoal.cmd,
    [...shoal.args, 'seed', torrent, '-d', set.parent, '--port', String(shoalPort), '--quiet'],
    { logFile: path.join(ctx.scratch, 'shoal-seed.log') },
  );
  const seeders: { label: string; port: number; proc: Proc }[] = [];
  try {
    await waitForTcp(shoalPort, 120_000);
    seeders.push({ label: `${shoal.label} seed`, port: shoalPort, proc: shoalSeed });
    const lt = await startSeeders(ctx.scratch, 1, [`${torrent}:${set.parent}`], null, []);
    seeders.push({ label: 'libtorrent seeder', port: lt.ports[0]!, proc: lt.procs[0]! });
  } catch (error) {
    log(`  seeding set-up failed: ${String(error)}; ${shoalSeed.stderr.slice(-400)}`);
    await shoalSeed.stop('SIGTERM', 2000);
    throw error;
  }
  const rows: Row[] = seeders.map((s) => ({ case: 'seeding', tool: s.label, samples: [] }));
  const work = path.join(ctx.scratch, 'seed-work');
  for (let r = 0; r < ctx.runs; r++) {
    for (const i of rotation(
      seeders.map((_, i) => i),
      r,
    )) {
      const seeder = seeders[i]!;
      await rm(work, { recursive: true, force: true });
      await mkdir(work, { recursive: true });
      const result = await measure(
        PYTHON,
        [
          LT_PY,
          'leech',
          '--torrent',
          `${torrent}:${work}`,
          '--peer',
          `127.0.0.1:${seeder.port}`,
          '--timeout',
          '300',
        ],
        { timeoutMs: 320_000 },
      );
      let ok = result.code === 0 && !result.timedOut && !seeder.proc.endedAt;
      if (!ok)
        log(
          `  leecher from ${seeder.label} failed (${result.code}): ${result.stdout.slice(-300)} ${result.stderr.slice(-300)}`,
        );
      if (ok) ok = await sameBytes(set, work);
      rows[i]!.samples.push({ wall: result.wall, rssKiB: null, ok });
      log(
        `  run ${r + 1}/${ctx.runs} from ${seeder.label}: ${result.wall.toFixed(2)} s, ${(set.totalSize / 1e6 / result.wall).toFixed(0)} MB/s`,
      );
    }
  }
  await rm(work, { recursive: true, force: true });
  for (const [i, seeder] of seeders.entries()) {
    await seeder.proc.stop('SIGINT', 5000);
    const rss = await seeder.proc.peakRssKiB();
    rows[i]!.seederPeakRssMiB = rss === null ? null : rss / 1024;
  }
  const lt = rows.find((row) => row.tool === 'libtorrent seeder')!;
  for (const row of rows) {
    row.medianSeconds = medianWall(row);
    row.mbPerSecond = set.totalSize / 1e6 / (row.medianSeconds as number);
    row.speedVsLibtorrent = medianWall(lt) / (row.medianSeconds as number);
  }
  const table = markdownTable(
    [
      'seeder (one, loopback)',
      'libtorrent leecher median MB/s',
      'median s',
      'x libtorrent seeder',
      'seeder peak RSS MiB',
      'ok runs',
    ],
    rows.map((row) => [
      row.tool,
      fmt(row.mbPerSecond as number, 0),
      fmt(row.medianSeconds as number),
      fmt(row.speedVsLibtorrent as number),
      fmt(row.seederPeakRssMiB as number | null, 0),
      `${okSamples(row).length}/${row.samples.length}`,
    ]),
  );
  return {
    rows,
    table: `#### seeding (${(set.totalSize / MiB).toFixed(0)} MiB, 1 MiB pieces)\n\n${table}`,
  };
}
