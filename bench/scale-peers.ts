/**
 * `scale-peers`: one download from many peers at once, and seeding to many.
 * The peers are lightweight fakes in one helper process
 * (bench/lib/fake-peers.ts, shoal's own wire codec); the data is zeros.
 *
 * - download: `shoal download` of 4 GiB (256 KiB pieces) from 5 and from 500
 *   fake seeders plus 2 python3-libtorrent seeders (`--peer` for each,
 *   `--max-peers` above the count). Wall
 *   time, CPU seconds and peak RSS of shoal, the most peers it had
 *   connected at once (its progress events), and per added peer: the
 *   difference between the two runs divided by 495. (shoal dials new peers
 *   at a bounded rate: at 1 GiB the download was over with 120 of the 500
 *   connected, hence 4 GiB.)
 * - seed: `shoal seed` of the same torrent from a sparse file, with 10 and
 *   then 200 fake leechers asking for blocks for 20 s: upload throughput,
 *   CPU and RSS of the seeder over the window, per added leecher.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  NODE24,
  REPO,
  fmt,
  freePort,
  log,
  markdownTable,
  primaryShoal,
  writeResults,
  type Context,
} from './lib/common.ts';
import { Proc, measure } from './lib/procs.ts';
import { usageOf, watchUsage } from './lib/proc-usage.ts';
import { startSeeders } from './lib/swarm.ts';
import { sparseFile, writeZeroTorrent } from './lib/zero-torrent.ts';

const PIECE_LENGTH = 256 * 1024;
const FAKE_PEERS = path.join(REPO, 'bench', 'lib', 'fake-peers.ts');

interface DownloadRow {
  peers: number;
  wall: number;
  cpuSeconds: number;
  peakRssMiB: number | null;
  maxConnected: number;
  ok: boolean;
}

/** The most peers a download had connected at once, from its peer events. */
function maxConnected(stdout: string): number {
  let now = 0;
  let most = 0;
  for (const line of stdout.split('\n')) {
    if (line.includes('"type":"peer-connected"')) most = Math.max(most, ++now);
    else if (line.includes('"type":"peer-disconnected"')) now--;
  }
  return most;
}

/** Real seeders beside the fakes: python3-libtorrent, seeding the same zeros from a sparse file. */
const LIBTORRENT_SEEDERS = 2;

async function downloadFrom(
  ctx: Context,
  torrent: string,
  seedData: string,
  peers: number,
): Promise<DownloadRow> {
  const shoal = primaryShoal();
  const out = path.join(ctx.scratch, `scale-peers-out-${peers}`);
  await rm(out, { recursive: true, force: true });
  const fakes = new Proc(NODE24, [FAKE_PEERS, 'seeders', String(peers), torrent], { stdin: true });
  const real = await startSeeders(
    ctx.scratch,
    LIBTORRENT_SEEDERS,
    [`${torrent}:${seedData}`],
    null,
    [],
  );
  try {
    await fakes.waitForOutput('"ports"', 120_000);
    const fakePorts = (JSON.parse(fakes.stdout.trim().split('\n')[0]!) as { ports: number[] })
      .ports;
    const ports = [...real.ports, ...fakePorts];
    let usage: ReturnType<typeof watchUsage> | null = null;
    const result = await measure(
      shoal.cmd,
      [
        ...shoal.args,
        'download',
        torrent,
        '-o',
        out,
        ...ports.flatMap((port) => ['--peer', `127.0.0.1:${port}`]),
        '--max-peers',
        String(peers + 10),
        '--transport',
        'tcp',
        '--no-dht',
        '--no-lsd',
        '--timeout',
        '10m',
        '--events',
      ],
      {
        timeoutMs: 900_000,
        onStart: (proc) => {
          // The measured program is /usr/bin/time's child: wait for it to appear.
          void (async () => {
            for (let i = 0; i < 100 && usage === null; i++) {
              const pid = await proc.innerPid();
              if (pid !== null) usage = watchUsage(pid);
              else await new Promise((resolve) => setTimeout(resolve, 20));
            }
          })();
        },
      },
    );
    const watched = (usage as ReturnType<typeof watchUsage> | null)?.read();
    (usage as ReturnType<typeof watchUsage> | null)?.stop();
    const ok = result.code === 0 && !result.timedOut;
    if (!ok) log(`  download from ${peers} failed (${result.code}): ${result.stderr.slice(-300)}`);
    return {
      peers,
      wall: result.wall,
      cpuSeconds: watched?.cpuSeconds ?? Number.NaN,
      peakRssMiB: result.rssKiB === null ? null : result.rssKiB / 1024,
      maxConnected: maxConnected(result.stdout),
      ok,
    };
  } finally {
    await fakes.stop('SIGTERM');
    for (const seeder of real.procs) await seeder.stop('SIGTERM');
    await rm(out, { recursive: true, force: true });
  }
}

interface SeedRow {
  leechers: number;
  seconds: number;
  bytes: number;
  unchoked: number;
  connected: number;
  cpuSeconds: number;
  rssMiB: number;
  peakRssMiB: number;
}

async function seedTo(
  ctx: Context,
  torrent: string,
  data: string,
  leechers: number,
): Promise<SeedRow> {
  const shoal = primaryShoal();
  const port = await freePort();
  const seeder = new Proc(shoal.cmd, [
    ...shoal.args,
    'seed',
    torrent,
    '-d',
    data,
    '--port',
    String(port),
    '--max-peers',
    String(leechers + 10),
    '--transport',
    'tcp',
    '--events',
  ]);
  try {
    await seeder.waitForOutput('"phase":"seeding"', 600_000);
    const pid = await seeder.innerPid();
    if (pid === null) throw new Error('seeder gone');
    const before = await usageOf(pid);
    const watch = watchUsage(pid);
    const seconds = ctx.quick ? 5 : 20;
    const fakes = await measure(NODE24, [
      FAKE_PEERS,
      'leechers',
      String(leechers),
      torrent,
      String(port),
      String(seconds),
    ]);
    const after = await usageOf(pid);
    const watched = watch.read();
    watch.stop();
    if (fakes.code !== 0 || !before || !after)
      throw new Error(`leechers failed (${fakes.code}): ${fakes.stderr.slice(-300)}`);
    const stats = JSON.parse(fakes.stdout.trim()) as {
      bytes: number;
      unchoked: number;
      connected: number;
    };
    return {
      leechers,
      seconds,
      bytes: stats.bytes,
      unchoked: stats.unchoked,
      connected: stats.connected,
      cpuSeconds: after.cpuSeconds - before.cpuSeconds,
      rssMiB: after.rssMiB,
      peakRssMiB: watched.peakRssMiB,
    };
  } finally {
    await seeder.stop('SIGTERM');
  }
}

export async function benchScalePeers(ctx: Context): Promise<string> {
  // --quick: 64 MiB, to try the harness.
  const size = ctx.quick ? 64 * 2 ** 20 : 4 * 2 ** 30;
  const torrent = path.join(ctx.scratch, 'zeros.torrent');
  await writeZeroTorrent(torrent, 'zeros.bin', size, PIECE_LENGTH);
  const seedData = path.join(ctx.scratch, 'scale-peers-seed');
  await sparseFile(path.join(seedData, 'zeros.bin'), size);

  const many = ctx.quick ? 100 : 500;
  const downloads: DownloadRow[] = [];
  for (const peers of [5, many]) {
    downloads.push(await downloadFrom(ctx, torrent, seedData, peers));
    const row = downloads.at(-1)!;
    log(`  download from ${peers}: ${fmt(row.wall)} s, ${row.maxConnected} connected`);
  }
  const crowd = ctx.quick ? 50 : 200;
  const seeds: SeedRow[] = [];
  for (const leechers of [10, crowd]) {
    seeds.push(await seedTo(ctx, torrent, seedData, leechers));
    const row = seeds.at(-1)!;
    log(`  seed to ${leechers}: ${fmt(row.bytes / row.seconds / 2 ** 20, 1)} MiB/s`);
  }
  await rm(seedData, { recursive: true, force: true });

  const [few, lots] = downloads as [DownloadRow, DownloadRow];
  const added = lots.peers - few.peers;
  const downloadTable = markdownTable(
    [
      `fake seeders (+${LIBTORRENT_SEEDERS} libtorrent)`,
      'wall s',
      'MiB/s',
      'CPU s',
      'CPU s per GiB',
      'peak RSS MiB',
      'most connected',
      'ok',
    ],
    downloads.map((row) => [
      String(row.peers),
      fmt(row.wall),
      fmt(size / 2 ** 20 / row.wall, 0),
      fmt(row.cpuSeconds),
      fmt(row.cpuSeconds / (size / 2 ** 30)),
      fmt(row.peakRssMiB, 0),
      String(row.maxConnected),
      row.ok ? 'yes' : 'no',
    ]),
  );
  const perPeer =
    `per added peer (${added}): ` +
    `${fmt((((lots.peakRssMiB ?? 0) - (few.peakRssMiB ?? 0)) * 1024) / added, 0)} KiB peak RSS, ` +
    `${fmt(((lots.cpuSeconds - few.cpuSeconds) * 1000) / added, 1)} ms CPU over the download`;
  const [small, big] = seeds as [SeedRow, SeedRow];
  const seedTable = markdownTable(
    [
      'fake leechers',
      'connected',
      'ever unchoked',
      'upload MiB/s',
      'seeder CPU % of a core',
      'RSS MiB (peak)',
    ],
    seeds.map((row) => [
      String(row.leechers),
      String(row.connected),
      String(row.unchoked),
      fmt(row.bytes / row.seconds / 2 ** 20, 1),
      fmt((100 * row.cpuSeconds) / row.seconds, 0),
      `${fmt(row.rssMiB, 0)} (${fmt(row.peakRssMiB, 0)})`,
    ]),
  );
  const perLeecher = `per added leecher (${big.leechers - small.leechers}): ${fmt(((big.rssMiB - small.rssMiB) * 1024) / (big.leechers - small.leechers), 0)} KiB RSS`;
  const file = await writeResults(ctx, 'scale-peers', { downloads, seeds });
  return (
    `### scale-peers (${size / 2 ** 20} MiB of zeros, 256 KiB pieces, fake peers in one process)\n\n` +
    `Download:\n\n${downloadTable}\n\n${perPeer}\n\n` +
    `Seeding (${big.seconds} s of requests):\n\n${seedTable}\n\n${perLeecher}\n\n` +
    `results: ${path.relative(process.cwd(), file)}\n`
  );
}
