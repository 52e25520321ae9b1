/**
 * `scale-metainfo`: `shoal inspect` of torrents with 10 000, 100 000 and
 * 400 000 files (v1, one-byte files in 1000 directories; 0.4, 4 and 16 MB
 * `.torrent` files) against `transmission-show`, which lists every file.
 * `inspect --files` lists them too, so both rows are shown. Wall time and
 * peak RSS, medians of the runs, alternating; the ratio is shoal's median
 * over transmission-show's for the same torrent.
 */
import path from 'node:path';
import {
  fmt,
  log,
  markdownTable,
  medianWall,
  peakRssMiB,
  primaryShoal,
  rotation,
  writeResults,
  type Context,
  type Row,
} from './lib/common.ts';
import { writeManyFilesTorrent } from './lib/many-files-torrent.ts';
import { measure } from './lib/procs.ts';

const FILE_COUNTS = [10_000, 100_000, 400_000];

export async function benchScaleMetainfo(ctx: Context): Promise<string> {
  const shoal = primaryShoal();
  const rows: Row[] = [];
  const sizes: Record<number, number> = {};
  for (const count of ctx.quick ? FILE_COUNTS.slice(0, 2) : FILE_COUNTS) {
    const torrent = path.join(ctx.scratch, `many-${count}.torrent`);
    sizes[count] = await writeManyFilesTorrent(torrent, count);
    const tools = [
      {
        label: `${shoal.label} inspect`,
        cmd: shoal.cmd,
        args: [...shoal.args, 'inspect', torrent],
      },
      {
        label: `${shoal.label} inspect --files`,
        cmd: shoal.cmd,
        args: [...shoal.args, 'inspect', '--files', torrent],
      },
      { label: 'transmission-show', cmd: 'transmission-show', args: [torrent] },
    ];
    const caseRows: Row[] = tools.map((tool) => ({
      case: `${count} files`,
      tool: tool.label,
      samples: [],
    }));
    // One untimed round: the torrent and the binaries into the page cache.
    for (const tool of tools) await measure(tool.cmd, tool.args, { timeoutMs: 300_000 });
    for (let r = 0; r < ctx.runs; r++) {
      for (const i of rotation([0, 1, 2], r)) {
        const tool = tools[i]!;
        const result = await measure(tool.cmd, tool.args, { timeoutMs: 300_000 });
        const ok = result.code === 0 && !result.timedOut;
        if (!ok) log(`  ${tool.label} failed (${result.code}): ${result.stderr.slice(-300)}`);
        caseRows[i]!.samples.push({ wall: result.wall, rssKiB: result.rssKiB, ok });
      }
    }
    const reference = medianWall(caseRows[2]!);
    for (const row of caseRows) {
      row.medianSeconds = medianWall(row);
      row.ratio = (row.medianSeconds as number) / reference;
      row.peakRssMiB = peakRssMiB(row);
    }
    log(
      `  ${count} files: ${caseRows.map((row) => `${row.tool} ${fmt(row.medianSeconds as number)} s`).join(', ')}`,
    );
    rows.push(...caseRows);
  }
  const table = markdownTable(
    ['torrent', 'command', 'median s', 'x transmission-show', 'peak RSS MiB', 'ok runs'],
    rows.map((row) => [
      `${row.case} (${fmt(sizes[Number.parseInt(row.case, 10)]! / 2 ** 20, 1)} MiB)`,
      row.tool,
      fmt(row.medianSeconds as number),
      fmt(row.ratio as number),
      fmt(row.peakRssMiB as number | null, 0),
      `${row.samples.filter((s) => s.ok).length}/${row.samples.length}`,
    ]),
  );
  const file = await writeResults(ctx, 'scale-metainfo', { rows, sizes });
  return `### scale-metainfo (${ctx.runs} runs each, alternating)\n\n${table}\n\nresults: ${path.relative(process.cwd(), file)}\n`;
}
