/**
 * `startup`: wall time and peak RSS of short commands: `shoal --version` and
 * `shoal inspect small.torrent` (dist and dev), a bare Node 24 start, and
 * `transmission-show`; plus the size of dist/shoal.
 */
import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  NODE24,
  REPO,
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
import { MiB, singleFile } from './lib/data.ts';
import { measure, run } from './lib/procs.ts';

export async function benchStartup(ctx: Context): Promise<string> {
  const set = await singleFile(ctx.scratch, 'small', 3 * MiB, ctx.seed);
  const torrent = path.join(ctx.scratch, 'small.torrent');
  await rm(torrent, { force: true });
  await run('mktorrent', [
    '-d',
    '-l',
    '18',
    '-a',
    'http://127.0.0.1:1/announce',
    '-o',
    torrent,
    set.root,
  ]);
  const list: { label: string; cmd: string; args: string[] }[] = [];
  for (const build of shoalBuilds()) {
    list.push({
      label: `${build.label} --version`,
      cmd: build.cmd,
      args: [...build.args, '--version'],
    });
    list.push({
      label: `${build.label} inspect`,
      cmd: build.cmd,
      args: [...build.args, 'inspect', torrent],
    });
  }
  const runJs = path.join(REPO, 'bin', 'run.js');
  if (existsSync(runJs) && existsSync(path.join(REPO, 'build', 'cli.js'))) {
    list.push({
      label: 'node bin/run.js (compiled) inspect',
      cmd: NODE24,
      args: [runJs, 'inspect', torrent],
    });
  }
  list.push({ label: 'node -e 0 (Node 24)', cmd: NODE24, args: ['-e', '0'] });
  list.push({ label: 'transmission-show', cmd: 'transmission-show', args: [torrent] });
  const runs = ctx.quick ? 5 : 20;
  const rows: Row[] = list.map((tool) => ({ case: 'startup', tool: tool.label, samples: [] }));
  // One untimed round first: loads binaries into the page cache.
  for (const tool of list) await measure(tool.cmd, tool.args);
  for (let r = 0; r < runs; r++) {
    for (const i of rotation(
      list.map((_, i) => i),
      r,
    )) {
      const tool = list[i]!;
      const result = await measure(tool.cmd, tool.args, { timeoutMs: 60_000 });
      const ok = result.code === 0 && !result.timedOut;
      if (!ok) log(`  ${tool.label} failed (${result.code}): ${result.stderr.slice(-300)}`);
      rows[i]!.samples.push({ wall: result.wall, rssKiB: result.rssKiB, ok });
    }
  }
  const bare = medianWall(rows.find((row) => row.tool.startsWith('node -e 0'))!);
  for (const row of rows) {
    row.medianSeconds = medianWall(row);
    row.ratioVsBareNode = (row.medianSeconds as number) / bare;
    row.peakRssMiB = peakRssMiB(row);
  }
  const dist = path.join(REPO, 'dist', 'shoal');
  const binarySize = existsSync(dist) ? (await stat(dist)).size : null;
  const table = markdownTable(
    ['command', 'median ms', 'x bare node', 'peak RSS MiB', 'ok runs'],
    rows.map((row) => [
      row.tool,
      fmt((row.medianSeconds as number) * 1000, 0),
      fmt(row.ratioVsBareNode as number),
      fmt(row.peakRssMiB as number | null, 0),
      `${row.samples.filter((s) => s.ok).length}/${row.samples.length}`,
    ]),
  );
  const file = await writeResults(ctx, 'startup', { runs, rows, binarySize });
  const size =
    binarySize === null
      ? 'dist/shoal not built (npm run build): only the dev entry was measured'
      : `dist/shoal: ${(binarySize / MiB).toFixed(1)} MiB`;
  return `### startup (${runs} runs each, alternating)\n\n${table}\n\n${size}\n\nresults: ${path.relative(process.cwd(), file)}\n`;
}
