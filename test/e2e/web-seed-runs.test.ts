/**
 * A lone web seed is read in long runs, not a request per piece: shoal asks
 * for several consecutive pieces in one ranged GET (up to 4 MiB), starting
 * the next run where the last one ended, and verifies pieces as their bytes
 * arrive. 64 pieces of 64 KiB from a real HTTP server on 127.0.0.1, no
 * tracker and no peer; the server counts the requests.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, makeTree, sameFile, tempDir } from '../helpers/files.ts';
import { startHttpFileServer, type HttpFileServer } from '../helpers/http-file-server.ts';
import { createTorrent } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

const PIECES = 64;
const PIECE = 64 * 1024;

let work: string;
let server: HttpFileServer;
let torrent: string;

beforeAll(async () => {
  work = tempDir('shoal-e2e-webseed-runs-');
  await makeTree(path.join(work, 'mirror'), [{ path: 'data.bin', size: PIECES * PIECE - 1000 }]);
  server = await startHttpFileServer(path.join(work, 'mirror'));
  ({ torrent } = await createTorrent(
    path.join(work, 'mirror/data.bin'),
    path.join(work, 'data.torrent'),
    ['--web-seed', `${server.origin}/data.bin`, '--piece-length', '64KiB'],
  ));
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('web seed runs', () => {
  it('downloads 64 pieces from one web seed in a few multi-piece requests', async () => {
    const out = path.join(work, 'out');
    const result = await runShoal(['download', torrent, '-o', out, '--timeout', '30s'], {
      timeoutMs: 60_000,
    });
    expect(result.code, show(result)).toBe(0);
    expect(await sameFile(path.join(work, 'mirror/data.bin'), path.join(out, 'data.bin'))).toBe(
      true,
    );
    const gets = server.requests.filter((request) => request.path === '/data.bin');
    // One request per piece before runs; a run covers up to 4 MiB (here: all 64 pieces).
    expect(gets.length, JSON.stringify(gets.map((g) => g.range))).toBeLessThanOrEqual(PIECES / 4);
    const widest = Math.max(
      ...gets.map((g) => {
        const [from, to] = /bytes=(\d+)-(\d+)/
          .exec(g.range ?? '')!
          .slice(1)
          .map(Number);
        return to! - from! + 1;
      }),
    );
    expect(widest).toBeGreaterThan(4 * PIECE);
  }, 90_000);
});
