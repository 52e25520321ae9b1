/**
 * --download-limit holds for web seeds too: a mirror's runs take their bytes
 * from the same limit as the peers' blocks, and are cut to about a second of
 * the rate, so the bytes arrive evenly instead of in 4 MiB bursts. Observed
 * from the server: no request asks for more than a second's worth, and the
 * download cannot finish faster than the limit allows (a lower bound only:
 * a loaded machine makes it slower, never faster).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, makeTree, sameFile, tempDir } from '../helpers/files.ts';
import { startHttpFileServer, type HttpFileServer } from '../helpers/http-file-server.ts';
import { createTorrent } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

const PIECE = 16 * 1024;
const SIZE = 40 * PIECE;
const LIMIT = 128 * 1024;

let work: string;
let server: HttpFileServer;
let torrent: string;

beforeAll(async () => {
  work = tempDir('shoal-e2e-webseed-limit-');
  await makeTree(path.join(work, 'mirror'), [{ path: 'data.bin', size: SIZE }]);
  server = await startHttpFileServer(path.join(work, 'mirror'));
  ({ torrent } = await createTorrent(
    path.join(work, 'mirror/data.bin'),
    path.join(work, 'data.torrent'),
    ['--web-seed', `${server.origin}/data.bin`, '--piece-length', '16KiB'],
  ));
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('--download-limit with a web seed', () => {
  it('paces the mirror: requests of at most a second of the rate, no faster than the limit', async () => {
    const out = path.join(work, 'out');
    const started = Date.now();
    const result = await runShoal(
      ['download', torrent, '-o', out, '--download-limit', '128KiB', '--timeout', '60s'],
      { timeoutMs: 90_000 },
    );
    const seconds = (Date.now() - started) / 1000;
    expect(result.code, show(result)).toBe(0);
    expect(await sameFile(path.join(work, 'mirror/data.bin'), path.join(out, 'data.bin'))).toBe(
      true,
    );
    const sizes = server.requests
      .filter((request) => request.path === '/data.bin')
      .map((request) => {
        const [from, to] = /bytes=(\d+)-(\d+)/
          .exec(request.range ?? '')!
          .slice(1)
          .map(Number);
        return to! - from! + 1;
      });
    expect(Math.max(...sizes), JSON.stringify(sizes)).toBeLessThanOrEqual(LIMIT);
    // A second's burst, then the rest at the rate: (640 KiB - 128 KiB) / 128 KiB/s = 4 s.
    expect(seconds).toBeGreaterThanOrEqual((SIZE - LIMIT) / LIMIT);
  }, 120_000);
});
