/**
 * `create`: shoal create (v1, hybrid, v2) against mktorrent -t 2 and
 * transmission-create on one big file and on a tree of small and large files,
 * 1 MiB pieces, warm page cache. Cross-checks shoal's v1 info-hash against
 * mktorrent's.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  fmt,
  log,
  markdownTable,
  medianWall,
  peakRssMiB,
  primaryShoal,
  rotation,
  shoalBuilds,
  writeResults,
  type Context,
  type Row,
} from './lib/common.ts';
import { GiB, MiB, singleFile, tree, warm, type DataSet } from './lib/data.ts';
import { measure } from './lib/procs.ts';
import { torrentFacts } from './lib/torrent.ts';

interface Tool {
  label: string;
  cmd: string;
  args: (input: string, out: string) => string[];
}

function tools(): Tool[] {
  const list: Tool[] = [];
  for (const build of shoalBuilds()) {
    list.push({
      label: `${build.label} --v1`,
      cmd: build.cmd,
      args: (input, out) => [
        ...build.args,
        'create',
        input,
        '--v1',
        '--no-date',
        '--piece-length',
        '1MiB',
        '-o',
        out,
        '--force',
        '--quiet',
      ],
    });
  }
  list.push({
    label: 'mktorrent -t 2',
    cmd: 'mktorrent',
    args: (input, out) => ['-d', '-t', '2', '-l', '20', '-o', out, input],
  });
  list.push({
    label: 'transmission-create',
    cmd: 'transmission-create',
    args: (input, out) => ['-s', '1024', '-o', out, input],
  });
  const primary = primaryShoal();
  for (const format of ['--hybrid', '--v2']) {
    list.push({
      label: `${primary.label} ${format}`,
      cmd: primary.cmd,
      args: (input, out) => [
        ...primary.args,
        'create',
        input,
        format,
        '--no-date',
        '--piece-length',
        '1MiB',
        '-o',
        out,
        '--force',
        '--quiet',
      ],
    });
  }
  return list;
}

export async function benchCreate(ctx: Context): Promise<string> {
  const sets: DataSet[] = ctx.quick
    ? [
        await singleFile(ctx.scratch, 'big', 256 * MiB, ctx.seed),
        await tree(ctx.scratch, 'tree', 400, 50 * MiB, ctx.seed),
      ]
    : [
        await singleFile(ctx.scratch, 'big', 2 * GiB, ctx.seed),
        await tree(ctx.scratch, 'tree', 2000, 250 * MiB, ctx.seed),
      ];
  const list = tools();
  const rows: Row[] = [];
  const checks: Record<string, unknown>[] = [];
  const outDir = path.join(ctx.scratch, 'create-out');
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  for (const set of sets) {
    log(
      `create: ${set.name} (${set.files.length} files, ${(set.totalSize / MiB).toFixed(0)} MiB), warming the cache`,
    );
    await warm(set);
    const setRows = list.map((tool): Row => ({
      case: `${set.name} ${(set.totalSize / MiB).toFixed(0)} MiB / ${set.files.length} files`,
      tool: tool.label,
      samples: [],
    }));
    const outputs = new Map<string, string>();
    for (let r = 0; r < ctx.runs; r++) {
      for (const i of rotation(
        list.map((_, i) => i),
        r,
      )) {
        const tool = list[i]!;
        const out = path.join(outDir, `${set.name}-${i}.torrent`);
        await rm(out, { force: true });
        const result = await measure(tool.cmd, tool.args(set.root, out), { timeoutMs: 600_000 });
        const ok = result.code === 0 && !result.timedOut;
        if (!ok) log(`  ${tool.label} failed (${result.code}): ${result.stderr.slice(-300)}`);
        setRows[i]!.samples.push({ wall: result.wall, rssKiB: result.rssKiB, ok });
        outputs.set(tool.label, out);
        log(`  run ${r + 1}/${ctx.runs} ${tool.label}: ${result.wall.toFixed(2)} s`);
      }
    }
    // Cross-check: same info-hash as mktorrent (both leave out the date), same pieces as transmission.
    const mk = await torrentFacts(outputs.get('mktorrent -t 2')!).catch(() => null);
    const tr = await torrentFacts(outputs.get('transmission-create')!).catch(() => null);
    for (const build of shoalBuilds()) {
      const sh = await torrentFacts(outputs.get(`${build.label} --v1`)!).catch(() => null);
      checks.push({
        case: set.name,
        shoal: build.label,
        shoalInfoHash: sh?.infoHash ?? null,
        mktorrentInfoHash: mk?.infoHash ?? null,
        infoHashEqual: !!sh && !!mk && sh.infoHash === mk.infoHash,
        piecesEqualMktorrent: !!sh?.pieces && !!mk?.pieces && sh.pieces.equals(mk.pieces),
        piecesEqualTransmission: !!sh?.pieces && !!tr?.pieces && sh.pieces.equals(tr.pieces),
        shoalInfoKeys: sh?.infoKeys ?? null,
        mktorrentInfoKeys: mk?.infoKeys ?? null,
      });
    }
    const base = medianWall(setRows.find((row) => row.tool === 'mktorrent -t 2')!);
    for (const row of setRows) {
      const wall = medianWall(row);
      row.medianSeconds = wall;
      row.gbPerSecond = set.totalSize / 1e9 / wall;
      row.ratioVsMktorrent = wall / base;
      row.peakRssMiB = peakRssMiB(row);
      rows.push(row);
    }
  }
  if (!ctx.keep) await rm(outDir, { recursive: true, force: true });
  const table = markdownTable(
    ['data', 'tool', 'median s', 'min-max s', 'GB/s', 'x mktorrent', 'peak RSS MiB', 'ok runs'],
    rows.map((row) => {
      const walls = row.samples.filter((s) => s.ok).map((s) => s.wall);
      return [
        row.case,
        row.tool,
        fmt(row.medianSeconds as number),
        walls.length ? `${fmt(Math.min(...walls))}-${fmt(Math.max(...walls))}` : '-',
        fmt(row.gbPerSecond as number),
        fmt(row.ratioVsMktorrent as number),
        fmt(row.peakRssMiB as number | null, 0),
        `${walls.length}/${row.samples.length}`,
      ];
    }),
  );
  const checkLines = checks.map(
    (c) =>
      `- ${c.case}, ${c.shoal} --v1: info-hash ${c.infoHashEqual ? 'equals' : 'DIFFERS from'} mktorrent's (${c.shoalInfoHash}); pieces ${c.piecesEqualMktorrent ? 'equal' : 'DIFFER from'} mktorrent's, ${c.piecesEqualTransmission ? 'equal' : 'DIFFER from'} transmission-create's` +
      (c.infoHashEqual
        ? ''
        : `; info keys shoal ${JSON.stringify(c.shoalInfoKeys)} vs mktorrent ${JSON.stringify(c.mktorrentInfoKeys)}`),
  );
  const file = await writeResults(ctx, 'create', { rows, checks });
  return `### create (1 MiB pieces, warm cache, ${ctx.runs} runs each, alternating)\n\n${table}\n\n${checkLines.join('\n')}\n\nresults: ${path.relative(process.cwd(), file)}\n`;
}
