/**
 * `scale-pieces`: a torrent of 1 048 576 pieces (one 16 GiB file of zeros,
 * 16 KiB pieces, a 20 MiB `pieces` string), kept as sparse files so it costs
 * no disk. Recorded, each with wall time and peak RSS:
 * - `inspect` (start-up: parsing a million piece hashes);
 * - `inspect --verify` of the complete data (SHA-1 of every piece);
 * - `shoal seed` start-up, a download of the last 64 MiB (4096 pieces) from
 *   it into a copy whose file stops 64 MiB short: first with no peer, stopped
 *   after its check (the full check, which leaves resume state), then from the
 *   seeder (the resume check by fingerprint of the other pieces, then the
 *   picker, bitfields and have messages at work; time to the `check` event
 *   and to done), and the same download again on
 *   the now complete data without resume state (the client removes it on
 *   completion): the start-up check alone. (Its info dictionary, 20 MiB, is
 *   more than ut_metadata carries: shoal does not offer it to peers.)
 * The data is zeros, so every present piece verifies; the file being short
 * is what makes pieces missing.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  fmt,
  freePort,
  log,
  markdownTable,
  median,
  primaryShoal,
  writeResults,
  type Context,
} from './lib/common.ts';
import { Proc, measure, type RunResult } from './lib/procs.ts';
import { sparseFile, writeZeroTorrent } from './lib/zero-torrent.ts';

const PIECE_LENGTH = 16 * 1024;
/** 64 MiB at the end of the file: 4096 pieces to download. */
const MISSING = 64 * 1024 * 1024;

/** Seconds from the `start` event to the first event of `type` in an --events stream. */
function eventSeconds(stdout: string, type: string): number | null {
  let startMs: number | null = null;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { type: string; time: string };
    const at = Date.parse(event.time);
    if (event.type === 'start') startMs = at;
    if (event.type === type && startMs !== null) return (at - startMs) / 1000;
  }
  return null;
}

interface Step {
  label: string;
  results: RunResult[];
  checkSeconds?: (number | null)[];
}

export async function benchScalePieces(ctx: Context): Promise<string> {
  // --quick: 65 536 pieces (1 GiB), to try the harness.
  const pieceCount = ctx.quick ? 1 << 16 : 1 << 20;
  const size = pieceCount * PIECE_LENGTH;
  const shoal = primaryShoal();
  const dir = path.join(ctx.scratch, 'million-pieces');
  const torrent = path.join(dir, 'big.torrent');
  const full = path.join(dir, 'full');
  const part = path.join(dir, 'part');
  await rm(dir, { recursive: true, force: true });
  await sparseFile(path.join(full, 'big.bin'), size);
  await writeZeroTorrent(torrent, 'big.bin', size, PIECE_LENGTH);
  const steps: Step[] = [];
  const run = async (args: string[], timeoutMs = 900_000) => {
    const result = await measure(shoal.cmd, [...shoal.args, ...args], { timeoutMs });
    if (result.code !== 0 || result.timedOut)
      throw new Error(`shoal ${args[0]} failed (${result.code}): ${result.stderr.slice(-500)}`);
    return result;
  };

  const inspect: Step = { label: 'inspect', results: [] };
  for (let r = 0; r < Math.min(ctx.runs, 3); r++)
    inspect.results.push(await run(['inspect', torrent]));
  steps.push(inspect);
  log(`  inspect ${fmt(median(inspect.results.map((r) => r.wall)))} s`);

  const verify: Step = { label: `inspect --verify (all ${pieceCount} pieces)`, results: [] };
  verify.results.push(await run(['inspect', torrent, '--verify', full]));
  steps.push(verify);
  log(`  verify ${fmt(verify.results[0]!.wall)} s`);

  const port = await freePort();
  const seeder = new Proc(shoal.cmd, [
    ...shoal.args,
    'seed',
    torrent,
    '-d',
    full,
    '--port',
    String(port),
    '--transport',
    'tcp',
    '--events',
  ]);
  try {
    await seeder.waitForOutput('"phase":"seeding"', 900_000);
    const seederReady = (performance.now() - seeder.started) / 1000;
    steps.push({
      label: 'seed: start to seeding (checks all pieces)',
      results: [{ wall: seederReady } as RunResult],
    });
    log(`  seeder ready after ${fmt(seederReady)} s`);

    await sparseFile(path.join(part, 'big.bin'), size - MISSING);
    // A download with no peer, stopped once its check is done: it leaves resume state
    // (a snapshot of every piece found), so the next download's check is the resume check.
    const interrupted = new Proc(shoal.cmd, [
      ...shoal.args,
      'download',
      torrent,
      '-o',
      part,
      '--transport',
      'tcp',
      '--no-dht',
      '--no-lsd',
      '--events',
    ]);
    await interrupted.waitForOutput('"type":"check"', 900_000);
    await interrupted.stop('SIGINT');
    const peakKiB = await interrupted.peakRssKiB();
    steps.push({
      label: 'download with no peer, stopped after its check (leaves resume state)',
      results: [
        { wall: (interrupted.endedAt - interrupted.started) / 1000, rssKiB: peakKiB } as RunResult,
      ],
      checkSeconds: [eventSeconds(interrupted.stdout, 'check')],
    });
    const download = (label: string) => async () => {
      const result = await run([
        'download',
        torrent,
        '-o',
        part,
        '--peer',
        `127.0.0.1:${port}`,
        '--transport',
        'tcp',
        '--no-dht',
        '--no-lsd',
        '--timeout',
        '10m',
        '--events',
      ]);
      steps.push({
        label,
        results: [result],
        checkSeconds: [eventSeconds(result.stdout, 'check')],
      });
      log(`  ${label}: ${fmt(result.wall)} s`);
    };
    await download('download the last 4096 pieces (resume check of the rest, then fetch)')();
    await download('download again on complete data, no resume state (check only)')();
  } finally {
    await seeder.stop('SIGTERM');
    if (!ctx.keep) await rm(dir, { recursive: true, force: true });
  }

  const table = markdownTable(
    ['step', 'runs', 'median wall s', 'to `check` event s', 'peak RSS MiB'],
    steps.map((step) => {
      const rss = step.results.map((r) => r.rssKiB).filter((v): v is number => v != null);
      const checks = (step.checkSeconds ?? []).filter((v): v is number => v !== null);
      return [
        step.label,
        String(step.results.length),
        fmt(median(step.results.map((r) => r.wall))),
        checks.length ? fmt(median(checks)) : '-',
        rss.length ? fmt(Math.max(...rss) / 1024, 0) : '-',
      ];
    }),
  );
  const file = await writeResults(ctx, 'scale-pieces', {
    steps: steps.map((step) => ({
      label: step.label,
      walls: step.results.map((r) => r.wall),
      rssKiB: step.results.map((r) => r.rssKiB),
      checkSeconds: step.checkSeconds,
    })),
  });
  return `### scale-pieces (${pieceCount} pieces of 16 KiB, a sparse ${size / 2 ** 30} GiB file of zeros)\n\n${table}\n\nresults: ${path.relative(process.cwd(), file)}\n`;
}
