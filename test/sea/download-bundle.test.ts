/**
 * Inside the executable a plain download runs from its own bundle,
 * download.cjs (the engine without oclif: scripts/build-sea.ts), and the full
 * command from cli.cjs, with the same files on disk. Only the executable has
 * bundles, so only the `binary` project runs this file (vitest.config.ts),
 * with SHOAL_EXE naming the executable.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { show, spawnTracked, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, tempDir } from '../helpers/files.ts';
import { peerArg, seedPayload, type ShoalSeeder } from '../helpers/swarm.ts';

trackProcesses({ concurrent: true });
cleanupTempDirs();

const exe = process.env.SHOAL_EXE ?? '';
let work: string;
let torrent: string;
let seeder: ShoalSeeder;

beforeAll(async () => {
  if (!exe) throw new Error('SHOAL_EXE must name the executable (the binary project sets it)');
  work = tempDir('shoal-download-bundle-');
  ({ torrent, seeder } = await seedPayload(work, [
    { path: 'a.bin', size: 70_000 },
    { path: 'sub/b.bin', size: 5_000 },
  ]));
});

afterAll(() => {
  seeder?.proc.kill();
});

const peer = () => peerArg(seeder.port);

describe('download bundles in the executable', () => {
  it('in the executable, runs from download.cjs, and the full command from cli.cjs', async () => {
    // A preload (NODE_OPTIONS, which the executable honours; without-node.sh drops it, so
    // the executable is started directly) records the scripts the process loaded.
    const cwd = path.join(work, 'bundles');
    mkdirSync(cwd);
    const probe = path.join(cwd, 'loaded-probe.cjs');
    writeFileSync(
      probe,
      `const { isMainThread } = require('node:worker_threads');
if (isMainThread) process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_RECORD, Object.keys(require.cache).map((file) => require('node:path').basename(file)).join('\\n')));
`,
    );
    const loaded = async (line: string[], record: string) => {
      const env = {
        NODE_OPTIONS: `--require ${probe}`,
        LOADED_RECORD: path.join(cwd, record),
        SHOAL_NO_DHT: '1',
        SHOAL_NO_LSD: '1',
      };
      const result = await spawnTracked('shoal download', exe, line, {
        cwd,
        env,
        timeoutMs: 45_000,
      }).exited;
      expect(result.code, show(result)).toBe(0);
      return readFileSync(path.join(cwd, record), 'utf8').split('\n');
    };
    const fast = await loaded(['download', torrent, '-o', 'a', '-q', ...peer()], 'fast.txt');
    expect(fast).toContain('download.cjs');
    expect(fast).not.toContain('cli.cjs');
    const full = await loaded(['download', '-o', 'b', '-q', ...peer(), '--', torrent], 'full.txt');
    expect(full).toContain('cli.cjs');
    expect(full).not.toContain('download.cjs');
    expect(await diffTrees(path.join(cwd, 'a'), path.join(cwd, 'b'), /^\.shoal\//)).toEqual([]);
  });
});
