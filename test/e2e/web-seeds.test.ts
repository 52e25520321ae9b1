/**
 * `shoal download` with web seeds (BEP 19) from the command line: a mirror
 * the torrent lists, one given with --web-seed, --no-web-seeds, and the
 * receipt's account of where the bytes came from. The mirror is a real HTTP
 * server on 127.0.0.1 serving the files with Range; there is no tracker and
 * no peer, so every byte must come from the mirror.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, tempDir } from '../helpers/files.ts';
import { startHttpFileServer, type HttpFileServer } from '../helpers/http-file-server.ts';
import { createTorrent } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

const FILES = [
  { path: 'mirror/tree/a.bin', size: 700_000 },
  { path: 'mirror/tree/sub dir/b #1.bin', size: 300_001 },
];

let work: string;
let server: HttpFileServer;
/** Lists the mirror in url-list. */
let listed: string;
/** Lists no mirror. */
let bare: string;
let totalSize: number;

beforeAll(async () => {
  work = tempDir('shoal-e2e-webseed-');
  await makeTree(work, FILES);
  server = await startHttpFileServer(path.join(work, 'mirror'));
  // A multi-file torrent's web seed URL names the folder that holds the torrent's folder.
  ({ torrent: listed, totalSize } = await createTorrent(
    path.join(work, 'mirror/tree'),
    path.join(work, 'listed.torrent'),
    ['--web-seed', `${server.origin}/`, '--piece-length', '32KiB'],
  ));
  ({ torrent: bare } = await createTorrent(
    path.join(work, 'mirror/tree'),
    path.join(work, 'bare.torrent'),
    ['--piece-length', '32KiB'],
  ));
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('download from web seeds', () => {
  it("downloads from the torrent's web seed alone; the receipt counts the bytes as web-seed bytes", async () => {
    const out = path.join(work, 'out-listed');
    const receipt = path.join(work, 'receipt.json');
    const result = await runShoal(
      ['download', listed, '-o', out, '--no-dht', '--receipt', receipt, '--timeout', '30s'],
      { timeoutMs: 60_000 },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(path.join(work, 'mirror/tree'), path.join(out, 'tree'))).toEqual([]);
    const doc = JSON.parse(await readFile(receipt, 'utf8')) as {
      bytes: { peers: number; webSeeds: number };
    };
    expect(doc.bytes).toEqual({ peers: 0, webSeeds: totalSize });
    expect(server.requests.some((request) => request.range !== undefined)).toBe(true);
  }, 90_000);

  it('--web-seed adds a mirror the torrent does not list', async () => {
    const out = path.join(work, 'out-flag');
    const result = await runShoal(
      ['download', bare, '-o', out, '--no-dht', '--web-seed', `${server.origin}/`, '--json'],
      { timeoutMs: 60_000 },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(path.join(work, 'mirror/tree'), path.join(out, 'tree'))).toEqual([]);
  }, 90_000);

  it('--no-web-seeds ignores the listed mirror: with no other source the download ends with exit 4', async () => {
    const before = server.requests.length;
    const result = await runShoal(
      [
        'download',
        listed,
        '-o',
        path.join(work, 'out-none'),
        '--no-web-seeds',
        '--no-dht',
        '--timeout',
        '3s',
      ],
      { timeoutMs: 60_000 },
    );
    expect(result.code, show(result)).toBe(4);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^shoal: error: /);
    expect(server.requests.length).toBe(before);
  }, 90_000);

  it('a --web-seed that is not an http(s) URL is bad usage (exit 2), one line', async () => {
    const result = await runShoal(['download', bare, '--web-seed', 'ftp://127.0.0.1/x']);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/invalid --web-seed URL "ftp:\/\/127\.0\.0\.1\/x"/);
  });
});
