/**
 * `webseed-mixed`: the same 1 GiB file (128 MiB with --quick, 1 MiB pieces)
 * from one web seed on 127.0.0.1 (url-list) plus two python3-libtorrent
 * seeders found through opentracker, all at once. `shoal download` (DHT and
 * LSD off) against aria2c, each given the same .torrent, alternating; every
 * result compared byte for byte with the source. The receipt-free shoal run
 * does not say how the bytes were split between the mirror and the peers.
 *
 * Standalone: node_modules/.bin/node bench/webseed-mixed.ts [--quick] [--runs N]
 */
import path from 'node:path';
import { log, writeResults, type Context } from './lib/common.ts';
import { GiB, MiB, singleFile } from './lib/data.ts';
import { startSeeders, startTracker, trackerPort } from './lib/swarm.ts';
import { torrentFacts } from './lib/torrent.ts';
import {
  resultTable,
  runLeechers,
  standalone,
  startWebSeedServer,
  torrentLeechers,
  webSeedTorrent,
} from './webseed.ts';

export async function benchWebseedMixed(ctx: Context): Promise<string> {
  const size = ctx.quick ? 128 * MiB : GiB;
  const set = await singleFile(ctx.scratch, 'webseed-mixed', size, ctx.seed);
  const server = await startWebSeedServer(set.parent);
  try {
    const port = await trackerPort();
    const announce = `http://127.0.0.1:${port}/announce`;
    const torrent = await webSeedTorrent(
      set,
      path.join(ctx.scratch, 'webseed-mixed.torrent'),
      server.base + encodeURIComponent(path.basename(set.root)),
      announce,
    );
    const { infoHash } = await torrentFacts(torrent);
    const tracker = await startTracker(ctx.scratch, port, [infoHash]);
    await startSeeders(ctx.scratch, 2, [`${torrent}:${set.parent}`], tracker, [infoHash]);
    const rows = await runLeechers(ctx, 'webseed-mixed', set, torrent, torrentLeechers());
    const file = await writeResults(ctx, 'webseed-mixed', { size, rows });
    log(`results: ${file}`);
    return `### webseed-mixed (${size / MiB} MiB, one web seed + two libtorrent seeders on 127.0.0.1, ${ctx.runs} runs alternating)\n\n${resultTable(rows, size)}\n`;
  } finally {
    await server.proc.stop('SIGTERM');
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  await standalone(benchWebseedMixed, process.argv.slice(2), '/tmp/shoal-bench-webseed-mixed');
}
