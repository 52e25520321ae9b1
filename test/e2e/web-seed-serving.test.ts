/**
 * Data fetched from a web seed is served to peers: shoal A downloads from a
 * mirror only (and keeps seeding); shoal B has no mirror and no tracker,
 * only A as a peer, so every byte B gets came from the mirror through A,
 * whether B asked while A was still downloading or after. Real HTTP server
 * on 127.0.0.1; B's receipt says where its bytes came from.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, tempDir } from '../helpers/files.ts';
import { startHttpFileServer, type HttpFileServer } from '../helpers/http-file-server.ts';
import { createTorrent, peerArg } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

let work: string;
let server: HttpFileServer;

beforeAll(async () => {
  work = tempDir('shoal-e2e-webseed-serving-');
  await makeTree(path.join(work, 'mirror'), [
    { path: 'tree/a.bin', size: 3_000_000 },
    { path: 'tree/b.bin', size: 123_457 },
  ]);
  server = await startHttpFileServer(path.join(work, 'mirror'));
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('web-seeded data is served to peers', () => {
  it('a peer with no mirror gets every byte from a shoal that downloads from one', async () => {
    const tree = path.join(work, 'mirror/tree');
    const common = ['--piece-length', '64KiB'];
    const { torrent: listed, totalSize } = await createTorrent(
      tree,
      path.join(work, 'listed.torrent'),
      ['--web-seed', `${server.origin}/`, ...common],
    );
    // The same info dictionary without the url-list: B cannot reach the mirror.
    const { torrent: bare } = await createTorrent(tree, path.join(work, 'bare.torrent'), common);
    const a = spawnShoal(
      [
        'download',
        listed,
        '-o',
        path.join(work, 'a'),
        // Port 0 and the port A names: a port found free first could be taken before it binds.
        '--port',
        '0',
        '--seed-time',
        '2m',
      ],
      { timeoutMs: 180_000 },
    );
    const portA = Number((await a.waitFor(/listening on port (\d+)/, 60_000, 'stderr'))[1]);
    const receipt = path.join(work, 'b-receipt.json');
    const b = await runShoal(
      [
        'download',
        bare,
        '-o',
        path.join(work, 'b'),
        ...peerArg(portA),
        '--receipt',
        receipt,
        '--timeout',
        '60s',
      ],
      { timeoutMs: 120_000 },
    );
    a.kill('SIGINT');
    await a.wait(60_000);
    expect(b.code, `${show(b)}\n${a.describe()}`).toBe(0);
    expect(await diffTrees(tree, path.join(work, 'b', 'tree'))).toEqual([]);
    const doc = JSON.parse(await readFile(receipt, 'utf8')) as {
      bytes: { peers: number; webSeeds: number };
    };
    expect(doc.bytes).toEqual({ peers: totalSize, webSeeds: 0 });
    expect(server.requests.length).toBeGreaterThan(0);
  }, 200_000);
});
