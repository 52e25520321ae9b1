/**
 * `receipt`: what `download --receipt` costs. shoal computes each file's
 * SHA-256 by reading it back after verification (docs/RECEIPT.md says why),
 * so this measures (1) that re-read alone, in process, on a file whose pages
 * are cached (as they are right after a download), and (2) whole downloads of
 * one file from a `shoal seed` on 127.0.0.1, with and without --receipt,
 * alternating, in the same run.
 *
 * Standalone: node_modules/.bin/node bench/receipt.ts [--quick] [--runs N] [--keep]
 * (1 GiB; 256 MiB with --quick; data in /tmp/shoal-bench-receipt).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sha256OfFile } from '../src/core/script/digests.ts';
import { NODE24, REPO, fmt, log, markdownTable, median } from './lib/common.ts';
import { GiB, MiB, singleFile } from './lib/data.ts';
import { Proc, killAll, measure, run } from './lib/procs.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
  },
});
const SIZE = values.quick ? 256 * MiB : GiB;
const RUNS = Number(values.runs);
const SCRATCH = '/tmp/shoal-bench-receipt';
const SHOAL = [path.join(REPO, 'bin', 'dev.js')];
const ENV = { NO_COLOR: '1', SHOAL_NO_DHT: '1', SHOAL_PROGRESS_INTERVAL: '3600' };

async function main(): Promise<void> {
  log(`receipt: ${SIZE / MiB} MiB, ${RUNS} runs`);
  const data = await singleFile(SCRATCH, 'receipt', SIZE, 1);
  const torrent = path.join(SCRATCH, 'receipt.torrent');
  await run(NODE24, [...SHOAL, 'create', data.root, '-o', torrent, '--force', '--no-date'], {
    env: ENV,
  });

  // (1) The re-read alone, page cache warm (one untimed pass warms it).
  await sha256OfFile(data.root);
  const hashSeconds: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await sha256OfFile(data.root);
    hashSeconds.push((performance.now() - started) / 1000);
  }

  // (2) Whole downloads from a shoal seeder, with and without --receipt.
  const seeder = new Proc(NODE24, [...SHOAL, 'seed', torrent, '-d', data.parent, '--port', '0'], {
    env: ENV,
  });
  await seeder.waitForOutput(': seeding', 600_000, 'stderr');
  const port = /listening on port (\d+)/.exec(seeder.stderr)?.[1];
  if (!port) throw new Error(`the seeder did not say its port: ${seeder.stderr.slice(-500)}`);
  const walls: Record<'plain' | 'receipt', number[]> = { plain: [], receipt: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const kind of i % 2 === 0
      ? (['plain', 'receipt'] as const)
      : (['receipt', 'plain'] as const)) {
      const out = path.join(SCRATCH, `out-${kind}`);
      await rm(out, { recursive: true, force: true });
      const receipt = path.join(SCRATCH, 'receipt.json');
      const extra = kind === 'receipt' ? ['--receipt', receipt, '--force'] : [];
      const result = await measure(
        NODE24,
        [
          ...SHOAL,
          'download',
          torrent,
          '-o',
          out,
          '--peer',
          `127.0.0.1:${port}`,
          '--timeout',
          '2m',
          ...extra,
        ],
        { env: ENV },
      );
      if (result.code !== 0)
        throw new Error(`download exited ${result.code}: ${result.stderr.slice(-500)}`);
      walls[kind].push(result.wall);
      log(`  ${kind}: ${fmt(result.wall)} s`);
      await rm(out, { recursive: true, force: true });
    }
  }
  await seeder.stop();

  const hash = median(hashSeconds);
  const plain = median(walls.plain);
  const withReceipt = median(walls.receipt);
  process.stdout.write(
    `${markdownTable(
      ['measure', 'median', 'note'],
      [
        ['SHA-256 re-read, cached pages', `${fmt(hash)} s`, `${fmt(SIZE / MiB / hash, 0)} MiB/s`],
        ['download', `${fmt(plain)} s`, `${SIZE / MiB} MiB from shoal seed on loopback`],
        [
          'download --receipt',
          `${fmt(withReceipt)} s`,
          `+${fmt(((withReceipt - plain) / plain) * 100, 1)} %`,
        ],
      ],
    )}\n`,
  );
}

try {
  await main();
} finally {
  await killAll(1000, true);
  if (!values.keep) await rm(SCRATCH, { recursive: true, force: true });
}
