/**
 * A download verifies the pieces it receives on its own thread and starts no
 * hash worker thread for them (a worker cost the 1 GiB download ~18 MiB of
 * peak RSS and more CPU than it saved: docs/PERFORMANCE.md, "Download memory
 * (2026-12-07, morning)"). A check of data already in the output folder still
 * starts one. A preload (NODE_OPTIONS; in the `binary` project the executable is
 * started directly, since without-node.sh drops NODE_OPTIONS) counts the
 * worker threads the process created.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shoalCommand, show, spawnTracked, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, tempDir } from '../helpers/files.ts';
import { peerArg, seedPayload, type ShoalSeeder } from '../helpers/swarm.ts';

trackProcesses({ concurrent: true });
cleanupTempDirs();

let work: string;
let tree: string;
let torrent: string;
let seeder: ShoalSeeder;
let probe: string;

beforeAll(async () => {
  work = tempDir('shoal-download-hash-thread-');
  ({ tree, torrent, seeder } = await seedPayload(work, [
    { path: 'a.bin', size: 600_000 },
    { path: 'sub/b.bin', size: 90_000 },
  ]));
  probe = path.join(work, 'worker-probe.cjs');
  writeFileSync(
    probe,
    `const { isMainThread } = require('node:worker_threads');
if (isMainThread) {
  let workers = 0;
  process.on('worker', () => workers++);
  process.on('exit', () => require('node:fs').writeFileSync(process.env.WORKER_RECORD, String(workers)));
}
`,
  );
});

afterAll(() => {
  seeder?.proc.kill();
});

/** Downloads into `out` and returns how many worker threads the process started. */
async function workersOfDownload(out: string): Promise<number> {
  const record = `${out}.workers`;
  const exe = process.env.SHOAL_EXE;
  const { file, prefix } = exe ? { file: exe, prefix: [] } : shoalCommand();
  const result = await spawnTracked(
    'shoal download',
    file,
    [...prefix, 'download', torrent, '-o', out, '-q', ...peerArg(seeder.port)],
    {
      cwd: work,
      env: {
        NODE_OPTIONS: `--require ${probe}`,
        WORKER_RECORD: record,
        SHOAL_NO_DHT: '1',
        SHOAL_NO_LSD: '1',
      },
      timeoutMs: 45_000,
    },
  ).exited;
  expect(result.code, show(result)).toBe(0);
  expect(await diffTrees(tree, path.join(out, 'payload'))).toEqual([]);
  return Number(readFileSync(record, 'utf8'));
}

describe('the hash thread of a download', () => {
  it('verifies received pieces without starting a worker thread', async () => {
    expect(await workersOfDownload(path.join(work, 'fresh'))).toBe(0);
  });

  it('still starts a worker to check data already in the output folder', async () => {
    const out = path.join(work, 'partial');
    mkdirSync(path.join(out, 'payload'), { recursive: true });
    copyFileSync(path.join(tree, 'a.bin'), path.join(out, 'payload', 'a.bin'));
    expect(await workersOfDownload(out)).toBeGreaterThan(0);
  });
});
