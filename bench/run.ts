/**
 * Benchmark entry: `npm run bench -- [name...] [--quick] [--keep] [--runs N] [--seed N]`
 * (or `node_modules/.bin/node bench/run.ts ...`). Names: create, verify,
 * download, resume, startup; none means all. Prints markdown tables on stdout,
 * progress on stderr, and writes bench/results/<name>-<date>.json.
 *
 * Data lives in /tmp/shoal-bench-<seed> (or --scratch DIR) and is deleted at
 * the end unless --keep. Every process started is killed by its process group
 * id at the end, on failure and on Ctrl-C.
 */
import { rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { benchCreate } from './create.ts';
import { benchDownload } from './download.ts';
import { benchResume } from './resume.ts';
import { benchScaleMetainfo } from './scale-metainfo.ts';
import { benchScalePeers } from './scale-peers.ts';
import { benchScalePieces } from './scale-pieces.ts';
import { benchScaleTorrents } from './scale-torrents.ts';
import { benchStartup } from './startup.ts';
import { benchTracker } from './tracker.ts';
import { benchTransports } from './transports.ts';
import { benchTui } from './tui.ts';
import { benchVerify } from './verify.ts';
import { benchWebseed } from './webseed.ts';
import { log, type Context } from './lib/common.ts';
import { killAll } from './lib/procs.ts';

const BENCHMARKS: Record<string, (ctx: Context) => Promise<string>> = {
  create: benchCreate,
  verify: benchVerify,
  download: benchDownload,
  resume: benchResume,
  'scale-metainfo': benchScaleMetainfo,
  'scale-peers': benchScalePeers,
  'scale-pieces': benchScalePieces,
  'scale-torrents': benchScaleTorrents,
  startup: benchStartup,
  tracker: benchTracker,
  transports: benchTransports,
  tui: benchTui,
  webseed: benchWebseed,
  'webseed-mixed': (ctx) => import('./webseed-mixed.ts').then((m) => m.benchWebseedMixed(ctx)),
  fleet: (ctx) => import('./fleet.ts').then((m) => m.benchFleet(ctx)),
  daemon: (ctx) => import('./daemon.ts').then((m) => m.benchDaemon(ctx)),
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    quick: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    runs: { type: 'string' },
    seed: { type: 'string', default: '1' },
    scratch: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(
    `usage: npm run bench -- [${Object.keys(BENCHMARKS).join('|')} ...] [--quick] [--keep] [--runs N] [--seed N] [--scratch DIR]\n`,
  );
  process.exit(0);
}

const names = positionals.length ? positionals : Object.keys(BENCHMARKS);
for (const name of names) {
  if (!BENCHMARKS[name]) {
    process.stderr.write(
      `unknown benchmark ${name}; one of ${Object.keys(BENCHMARKS).join(', ')}\n`,
    );
    process.exit(2);
  }
}

const seed = Number(values.seed);
const ctx: Context = {
  quick: values.quick!,
  keep: values.keep!,
  seed,
  runs: 0,
  scratch: path.resolve(values.scratch ?? `/tmp/shoal-bench-${seed}`),
};

let cleaning = false;
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  await killAll(1000, true);
  if (!ctx.keep) await rm(ctx.scratch, { recursive: true, force: true });
}

// Again at the very end: a benchmark interrupted mid-step may have written after the cleanup.
process.on('exit', () => {
  if (!ctx.keep) rmSync(ctx.scratch, { recursive: true, force: true });
});

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping every process started, cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

let failed = false;
try {
  await mkdir(ctx.scratch, { recursive: true });
  log(`scratch ${ctx.scratch}${ctx.quick ? ' (quick)' : ''}`);
  for (const name of names) {
    log(`== ${name}`);
    try {
      // A full download round takes minutes per leecher: 3 runs there, 5 elsewhere.
      ctx.runs = values.runs ? Number(values.runs) : values.quick ? 2 : name === 'download' ? 3 : 5;
      const report = await BENCHMARKS[name]!(ctx);
      process.stdout.write(`${report}\n`);
    } catch (error) {
      failed = true;
      log(
        `${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      await killAll();
    }
  }
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
