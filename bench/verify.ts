/**
 * `verify`: `shoal inspect X.torrent --verify DIR` on the big file against a
 * libtorrent full recheck of the same data (python3-libtorrent, 2 hashing
 * threads) and a single-core `sha1sum` as a reference; warm page cache.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import {
  LT_PY,
  PYTHON,
  fmt,
  log,
  markdownTable,
  medianWall,
  peakRssMiB,
  rotation,
  shoalBuilds,
  writeResults,
  type Context,
  type Row,
} from './lib/common.ts';
import { GiB, MiB, singleFile, warm } from './lib/data.ts';
import { measure, run } from './lib/procs.ts';

interface Tool {
  label: string;
  cmd: string;
  args: string[];
  /** Seconds measured inside the process, when it reports them. */
  inner?: (stdout: string) => number | null;
}

export async function benchVerify(ctx: Context): Promise<string> {
  const set = await singleFile(ctx.scratch, 'big', ctx.quick ? 256 * MiB : 2 * GiB, ctx.seed);
  const torrent = path.join(ctx.scratch, 'verify-big.torrent');
  await rm(torrent, { force: true });
  await run('mktorrent', ['-d', '-l', '20', '-o', torrent, set.root]);
  log(`verify: ${(set.totalSize / MiB).toFixed(0)} MiB, warming the cache`);
  await warm(set);
  const list: Tool[] = shoalBuilds().map((build) => ({
    label: `${build.label} inspect --verify`,
    cmd: build.cmd,
    args: [...build.args, 'inspect', torrent, '--verify', set.parent, '--quiet'],
  }));
  list.push({
    label: 'libtorrent recheck',
    cmd: PYTHON,
    args: [LT_PY, 'recheck', '--torrent', `${torrent}:${set.parent}`, '--threads', '2'],
    inner: (stdout) => {
      try {
        return (JSON.parse(stdout.trim().split('\n').at(-1)!) as { checked: number }).checked;
      } catch {
        return null;
      }
    },
  });
  list.push({ label: 'sha1sum (1 core, reference)', cmd: 'sha1sum', args: [set.root] });
  const rows: Row[] = list.map((tool) => ({ case: 'big', tool: tool.label, samples: [] }));
  for (let r = 0; r < ctx.runs; r++) {
    for (const i of rotation(
      list.map((_, i) => i),
      r,
    )) {
      const tool = list[i]!;
      const result = await measure(tool.cmd, tool.args, { timeoutMs: 600_000 });
      const ok = result.code === 0 && !result.timedOut;
      if (!ok) log(`  ${tool.label} failed (${result.code}): ${result.stderr.slice(-300)}`);
      rows[i]!.samples.push({
        wall: result.wall,
        rssKiB: result.rssKiB,
        ok,
        inner: tool.inner?.(result.stdout) ?? null,
      });
      log(`  run ${r + 1}/${ctx.runs} ${tool.label}: ${result.wall.toFixed(2)} s`);
    }
  }
  const lt = medianWall(rows.find((row) => row.tool === 'libtorrent recheck')!);
  for (const row of rows) {
    const wall = medianWall(row);
    row.medianSeconds = wall;
    row.gbPerSecond = set.totalSize / 1e9 / wall;
    row.ratioVsLibtorrent = wall / lt;
    row.peakRssMiB = peakRssMiB(row);
  }
  const table = markdownTable(
    ['tool', 'median s', 'GB/s (launch to exit)', 'x libtorrent', 'peak RSS MiB', 'ok runs'],
    rows.map((row) => [
      row.tool,
      fmt(row.medianSeconds as number),
      fmt(row.gbPerSecond as number),
      fmt(row.ratioVsLibtorrent as number),
      fmt(row.peakRssMiB as number | null, 0),
      `${row.samples.filter((s) => s.ok).length}/${row.samples.length}`,
    ]),
  );
  const file = await writeResults(ctx, 'verify', { size: set.totalSize, rows });
  return `### verify (${(set.totalSize / MiB).toFixed(0)} MiB file, 1 MiB pieces, warm cache, ${ctx.runs} runs each)\n\n${table}\n\nresults: ${path.relative(process.cwd(), file)}\n`;
}
