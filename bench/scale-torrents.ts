/**
 * `scale-torrents`: 200 torrents in one client (the TorrentManager behind
 * the daemon and the library, queues off; bench/lib/many-torrents-client.ts
 * in its own process). Small private torrents with no data and no peers are
 * added one after another, then left idle for 75 s while an HTTP tracker
 * here (127.0.0.1, interval 30 s, the announcer's floor) logs every
 * announce. Recorded: time to add (each, and CPU for all), memory as the
 * torrents arrive (after a full GC) and per idle torrent, CPU while idle,
 * and how announces spread over time: the busiest second against the
 * average, and announces per 5 s during the idle window (a thundering herd
 * shows as every re-announce in one bin).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import {
  NODE24,
  REPO,
  fmt,
  log,
  markdownTable,
  median,
  writeResults,
  type Context,
} from './lib/common.ts';
import { measure } from './lib/procs.ts';

interface Announce {
  at: number;
  hash: string;
  event: string;
}

interface ClientReport {
  count: number;
  addMs: number[];
  addedAt: number[];
  hashes: string[];
  addCpuSeconds: number;
  idleSeconds: number;
  idleCpuSeconds: number;
  checkpoints: { torrents: number; rssMiB: number; heapUsedMiB: number; externalMiB: number }[];
  idle: { torrents: number; rssMiB: number; heapUsedMiB: number; externalMiB: number };
  activities: Record<string, number>;
}

/** `%xx` escapes to bytes, as hex (an info_hash is 20 raw bytes in the query). */
function percentDecodedHex(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '%') {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('hex');
}

/** A tracker that answers every announce with no peers and logs it. */
async function startTracker(announces: Announce[]): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const query = (request.url ?? '').split('?')[1] ?? '';
    const params = new Map(query.split('&').map((pair) => pair.split('=') as [string, string]));
    announces.push({
      at: Date.now(),
      hash: percentDecodedHex(params.get('info_hash') ?? ''),
      event: params.get('event') ?? '',
    });
    response.end('d8:intervali30e5:peers0:e');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Announces per `binMs` from `from` to `to`, and the most in any one second. */
function spread(times: number[], from: number, to: number, binMs: number) {
  const bins = new Array<number>(Math.max(1, Math.ceil((to - from) / binMs))).fill(0);
  for (const at of times) if (at >= from && at < to) bins[Math.floor((at - from) / binMs)]!++;
  let busiestSecond = 0;
  for (const at of times) {
    const inSecond = times.filter((other) => other >= at && other < at + 1000).length;
    busiestSecond = Math.max(busiestSecond, inSecond);
  }
  return { bins, busiestSecond };
}

export async function benchScaleTorrents(ctx: Context): Promise<string> {
  const count = ctx.quick ? 50 : 200;
  const idleSeconds = ctx.quick ? 35 : 75;
  const dir = path.join(ctx.scratch, 'many-torrents');
  await mkdir(dir, { recursive: true });
  const announces: Announce[] = [];
  const tracker = await startTracker(announces);
  const url = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}/announce`;
  let report: ClientReport;
  let rssKiB: number | null;
  try {
    const client = path.join(REPO, 'bench', 'lib', 'many-torrents-client.ts');
    const result = await measure(
      NODE24,
      ['--expose-gc', client, dir, url, String(count), String(idleSeconds)],
      { timeoutMs: (idleSeconds + 300) * 1000 },
    );
    if (result.code !== 0) throw new Error(`client failed (${result.code}): ${result.stderr}`);
    report = JSON.parse(result.stdout) as ClientReport;
    rssKiB = result.rssKiB;
  } finally {
    await new Promise((resolve) => tracker.close(resolve));
  }

  const addedAt = new Map(report.hashes.map((hash, i) => [hash, report.addedAt[i]!]));
  const firstAnnounce = new Map<string, number>();
  for (const a of announces) if (!firstAnnounce.has(a.hash)) firstAnnounce.set(a.hash, a.at);
  const delays = [...firstAnnounce].map(([hash, at]) => at - (addedAt.get(hash) ?? at));
  const idleStart = report.addedAt.at(-1)!;
  const idleEnd = idleStart + report.idleSeconds * 1000;
  const live = announces.filter((a) => a.event !== 'stopped').map((a) => a.at);
  const idleWindow = spread(live, idleStart, idleEnd, 5000);
  const base = report.checkpoints[0]!;
  const perTorrentKiB = (mib: number, baseMiB: number) => ((mib - baseMiB) * 1024) / report.count;
  log(
    `  ${report.count} torrents: add median ${fmt(median(report.addMs), 1)} ms, idle RSS ${report.idle.rssMiB} MiB`,
  );

  const growth = markdownTable(
    ['torrents', 'RSS MiB', 'heap used MiB', 'external MiB'],
    [
      ...report.checkpoints.map((c) => [
        String(c.torrents),
        fmt(c.rssMiB, 1),
        fmt(c.heapUsedMiB, 1),
        fmt(c.externalMiB, 1),
      ]),
      [
        `${report.count}, after ${report.idleSeconds} s idle`,
        fmt(report.idle.rssMiB, 1),
        fmt(report.idle.heapUsedMiB, 1),
        fmt(report.idle.externalMiB, 1),
      ],
    ],
  );
  const summary = markdownTable(
    ['measure', 'value'],
    [
      [
        'time to add, median / max ms',
        `${fmt(median(report.addMs), 1)} / ${fmt(Math.max(...report.addMs), 1)}`,
      ],
      [
        'time to add all, s (CPU s)',
        `${fmt((idleStart - report.addedAt[0]!) / 1000)} (${fmt(report.addCpuSeconds)})`,
      ],
      ['RSS per idle torrent, KiB', fmt(perTorrentKiB(report.idle.rssMiB, base.rssMiB), 0)],
      [
        'JS heap per idle torrent, KiB',
        fmt(perTorrentKiB(report.idle.heapUsedMiB, base.heapUsedMiB), 0),
      ],
      ['CPU while idle, % of a core', fmt((100 * report.idleCpuSeconds) / report.idleSeconds, 2)],
      ['peak RSS (whole run), MiB', fmt(rssKiB === null ? null : rssKiB / 1024, 0)],
      ['activities at the end', JSON.stringify(report.activities)],
      [
        'first announce after add, median / max ms',
        `${fmt(median(delays), 0)} / ${fmt(Math.max(...delays), 0)}`,
      ],
      ['announces (not `stopped`) while idle', String(idleWindow.bins.reduce((a, b) => a + b, 0))],
      ['announces per 5 s while idle', idleWindow.bins.join(' ')],
      [
        'busiest second, announces (mean per second over the run)',
        `${idleWindow.busiestSecond} (${fmt(live.length / ((idleEnd - report.addedAt[0]!) / 1000), 1)})`,
      ],
    ],
  );
  const file = await writeResults(ctx, 'scale-torrents', { report, announces });
  return `### scale-torrents (${report.count} torrents in one client, ${report.idleSeconds} s idle)\n\n${summary}\n\nMemory as torrents are added (after a full GC):\n\n${growth}\n\nresults: ${path.relative(process.cwd(), file)}\n`;
}
