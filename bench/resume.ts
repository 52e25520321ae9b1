/**
 * `resume`: the check `shoal download` makes of data already on disk, once
 * without resume state (every piece SHA-1 checked) and once with the state the
 * previous run left in OUT/.shoal/ (claimed pieces checked by xxh64
 * fingerprint). A complete download removes its state, so the data has its
 * last piece damaged: the download stays incomplete, the state is kept, and
 * the check ends with "N/M pieces already on disk" on stderr; the time is from
 * launch to that line (the process is then stopped). Alternating runs.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  fmt,
  log,
  markdownTable,
  medianWall,
  peakRssMiB,
  primaryShoal,
  writeResults,
  type Context,
  type Row,
} from './lib/common.ts';
import { GiB, MiB, singleFile, warm } from './lib/data.ts';
import { measure, run } from './lib/procs.ts';
import { torrentFacts } from './lib/torrent.ts';

const DONE = 'pieces already on disk';

export async function benchResume(ctx: Context): Promise<string> {
  const set = await singleFile(ctx.scratch, 'big', ctx.quick ? 256 * MiB : 2 * GiB, ctx.seed);
  const torrent = path.join(ctx.scratch, 'resume-big.torrent');
  await rm(torrent, { force: true });
  await run('mktorrent', ['-d', '-l', '20', '-o', torrent, set.root]);
  const infoHash = (await torrentFacts(torrent)).infoHash;
  // A copy, so the shared data set is never written to by the client under test.
  const out = path.join(ctx.scratch, 'resume-out');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  await run('cp', ['--reflink=auto', set.root, out]);
  const copy = { ...set, root: path.join(out, path.basename(set.root)), parent: out };
  // The last piece damaged: the download cannot complete, so its state is kept.
  const pieceLength = 1 << 20;
  const handle = await open(copy.root, 'r+');
  await handle.write(Buffer.alloc(pieceLength), 0, pieceLength, set.totalSize - pieceLength);
  await handle.close();
  await warm(copy);
  const shoal = primaryShoal();
  const args = [...shoal.args, 'download', torrent, '-o', out, '--timeout', '120s'];
  const state = path.join(out, '.shoal');
  const rows: Row[] = [
    { case: 'check', tool: `${shoal.label} download, no resume state (SHA-1)`, samples: [] },
    { case: 'check', tool: `${shoal.label} download, resume state (xxh64)`, samples: [] },
  ];
  const once = async (row: Row, hadState: boolean) => {
    const result = await measure(shoal.cmd, args, {
      timeoutMs: 300_000,
      env: { SHOAL_PROGRESS_INTERVAL: '3600' },
      doneWhen: (proc) => proc.waitForOutput(DONE, 300_000, 'stderr'),
    });
    const found = /(\d+)\/(\d+) pieces already on disk/.exec(result.stderr);
    const ok =
      result.code === 0 && !result.timedOut && !!found && Number(found[1]) === Number(found[2]) - 1;
    if (!ok) log(`  check failed (${result.code}): ${result.stderr.slice(-300)}`);
    row.samples.push({
      wall: result.wall,
      rssKiB: result.rssKiB,
      ok,
      hadState,
      found: found?.[0] ?? null,
    });
    return result.wall;
  };
  let stateFiles: string[] = [];
  for (let r = 0; r < ctx.runs; r++) {
    await rm(state, { recursive: true, force: true });
    const full = await once(rows[0]!, false);
    stateFiles = await readdir(state).catch(() => []);
    const hasState = existsSync(path.join(state, `${infoHash}.resume`));
    log(
      `  run ${r + 1}/${ctx.runs} full check: ${full.toFixed(2)} s; state: ${stateFiles.join(', ') || 'none'}`,
    );
    const fast = await once(rows[1]!, hasState);
    log(`  run ${r + 1}/${ctx.runs} with state: ${fast.toFixed(2)} s`);
  }
  const created = rows[1]!.samples.some((s) => s.hadState);
  const base = medianWall(rows[0]!);
  for (const row of rows) {
    row.medianSeconds = medianWall(row);
    row.speedup = base / (row.medianSeconds as number);
    row.peakRssMiB = peakRssMiB(row);
  }
  if (!ctx.keep) await rm(out, { recursive: true, force: true });
  const table = markdownTable(
    ['check', 'median s', 'GB/s', 'speed-up', 'peak RSS MiB', 'ok runs'],
    rows.map((row) => [
      row.tool,
      fmt(row.medianSeconds as number),
      fmt(set.totalSize / 1e9 / (row.medianSeconds as number)),
      fmt(row.speedup as number),
      fmt(row.peakRssMiB as number | null, 0),
      `${row.samples.filter((s) => s.ok).length}/${row.samples.length}`,
    ]),
  );
  const note = created
    ? `resume state found after the full check: ${stateFiles.join(', ')}`
    : `NOTE: no ${infoHash}.resume was created by the download (found in .shoal/: ${stateFiles.join(', ') || 'nothing'}), so both rows measure the same full check`;
  const file = await writeResults(ctx, 'resume', {
    size: set.totalSize,
    rows,
    stateCreated: created,
    stateFiles,
  });
  return `### resume (${(set.totalSize / MiB).toFixed(0)} MiB, 1 MiB pieces, all but the last piece on disk; launch to end of check; ${ctx.runs} runs each)\n\n${table}\n\n${note}\n\nresults: ${path.relative(process.cwd(), file)}\n`;
}
