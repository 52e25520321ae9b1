/**
 * A mirror that serves wrong bytes with honest headers (a stale or corrupt
 * copy): every piece it sends fails its hash check, it is charged for each
 * and dropped, and the download still ends right, from a good mirror when
 * there is one, else with exit 4. Either way shoal says it dropped the
 * mirror (seen missing before: only a failed request was reported). Two
 * real HTTP servers on 127.0.0.1, no tracker, no peer.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, makeTree, sameFile, tempDir } from '../helpers/files.ts';
import {
  afterAsked,
  startHttpFileServer,
  type HttpFileServer,
} from '../helpers/http-file-server.ts';
import { createTorrent } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

let work: string;
let good: HttpFileServer;
let bad: HttpFileServer;
let torrent: string;

beforeAll(async () => {
  work = tempDir('shoal-e2e-webseed-bad-');
  await makeTree(path.join(work, 'good'), [{ path: 'data.bin', size: 2_000_000 }]);
  // The same name and size, every byte flipped.
  const bytes = await readFile(path.join(work, 'good/data.bin'));
  await mkdir(path.join(work, 'bad'));
  await writeFile(
    path.join(work, 'bad/data.bin'),
    bytes.map((b) => b ^ 0xff),
  );
  good = await startHttpFileServer(path.join(work, 'good'));
  bad = await startHttpFileServer(path.join(work, 'bad'));
  ({ torrent } = await createTorrent(
    path.join(work, 'good/data.bin'),
    path.join(work, 'data.torrent'),
    ['--piece-length', '64KiB'],
  ));
}, 60_000);
afterAll(async () => {
  await good?.close();
  await bad?.close();
});

describe('a web seed that serves bad data', () => {
  it('is dropped and the good mirror completes the download', async () => {
    const out = path.join(work, 'out-both');
    // When the good mirror is picked first it can take every piece and finish
    // before the bad one is asked for anything (seen under load), and nothing
    // is dropped. So the good one answers only once the bad one has been asked
    // (and had a second to fail its pieces), or after 8 s: both well inside
    // shoal's 15 s wait for response headers.
    const badWasAsked = afterAsked(bad, 1000, 8000);
    good.setBehaviour({ kind: 'held', until: badWasAsked });
    const result = await runShoal(
      [
        'download',
        torrent,
        '-o',
        out,
        '--web-seed',
        `${bad.origin}/data.bin`,
        '--web-seed',
        `${good.origin}/data.bin`,
        '--timeout',
        '60s',
      ],
      { timeoutMs: 120_000 },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await sameFile(path.join(work, 'good/data.bin'), path.join(out, 'data.bin'))).toBe(true);
    expect(good.requests.length).toBeGreaterThan(0);
    expect(result.stderr).toContain(`web seed ${bad.origin}/data.bin dropped`);
  }, 150_000);

  it('alone: it is named as dropped, and the download ends with exit 4, no stack trace', async () => {
    const out = path.join(work, 'out-bad');
    const result = await runShoal(
      ['download', torrent, '-o', out, '--web-seed', `${bad.origin}/data.bin`, '--timeout', '15s'],
      { timeoutMs: 120_000 },
    );
    expect(result.code, show(result)).toBe(4);
    expect(result.stderr).toContain(
      `web seed ${bad.origin}/data.bin dropped: its pieces fail their hash check`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(bad.requests.length).toBeGreaterThan(0);
  }, 150_000);
});
