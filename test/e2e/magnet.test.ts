/**
 * Magnet links end to end: metadata from peers (a shoal seeder and a
 * python3-libtorrent seeder), a private DHT on 127.0.0.1 as the only way to
 * find the seeder, PEX as the only way to learn a second seeder, and
 * --save-torrent / inspect --fetch. Every download is compared byte for byte.
 */
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import DHT from 'bittorrent-dht';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, makeTree, spanningTree, tempDir } from '../helpers/files.ts';
import { startLibtorrent } from '../helpers/peers.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

let work: string;
let dataParent: string;
let torrent: string;
let infoHash: string;

beforeAll(async () => {
  work = tempDir('shoal-magnet-');
  dataParent = path.join(work, 'src');
  await makeTree(path.join(dataParent, 'payload'), spanningTree());
  ({ torrent, infoHash } = (await createTorrent(
    path.join(dataParent, 'payload'),
    path.join(work, 'payload.torrent'),
    ['--piece-length', '16KiB'],
  )) as { torrent: string; infoHash: string });
}, 60_000);

/** A fresh cache directory per process, so no DHT routing table leaks between runs. */
const isolated = () => ({ env: { XDG_CACHE_HOME: mkdtempSync(path.join(work, 'cache-')) } });

interface DownloadJson {
  peers: number;
  status: string;
  downloaded: number;
}

describe('magnet links', () => {
  it('downloads a magnet whose x.pe points at a shoal seeder, saving the .torrent', async () => {
    const seeder = await startShoalSeeder(torrent, dataParent);
    const out = path.join(work, 'out-xpe');
    const saved = path.join(work, 'saved.torrent');
    const magnet = `magnet:?xt=urn:btih:${infoHash}&dn=payload&x.pe=127.0.0.1:${seeder.port}`;
    const result = await runShoal(
      ['download', magnet, '-o', out, '--save-torrent', saved, '--timeout', '30s'],
      {
        timeoutMs: 60_000,
      },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(path.join(dataParent, 'payload'), path.join(out, 'payload'))).toEqual(
      [],
    );
    expect(result.stderr).toMatch(/metadata payload: received all \d+ metadata piece/);
    // The saved torrent is the same torrent: same info-hash, same files.
    const inspect = await runShoal(['inspect', saved, '--json']);
    expect(inspect.code, show(inspect)).toBe(0);
    expect(JSON.parse(inspect.stdout).infoHash).toBe(infoHash);
    seeder.proc.kill('SIGTERM');
    // One download bounded at 60 s, after starting a seeder.
  }, 120_000);

  it('announces to its tracker once: the metadata fetch hands its sources and connections to the download', async () => {
    const seeder = await startShoalSeeder(torrent, dataParent);
    const events: string[] = [];
    // A tracker that only knows the seeder and records every announce's event.
    const tracker = http.createServer((request, response) => {
      const query = new URL(request.url ?? '/', 'http://x').searchParams;
      events.push(query.get('event') ?? 'none');
      const peer = Buffer.from([127, 0, 0, 1, seeder.port >> 8, seeder.port & 255]);
      response.end(
        Buffer.concat([Buffer.from('d8:intervali1800e5:peers6:'), peer, Buffer.from('e')]),
      );
    });
    await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = tracker.address() as AddressInfo;
      const announce = encodeURIComponent(`http://127.0.0.1:${port}/announce`);
      const magnet = `magnet:?xt=urn:btih:${infoHash}&dn=payload&tr=${announce}`;
      const out = path.join(work, 'out-handoff');
      const result = await runShoal(
        ['download', magnet, '-o', out, '--no-dht', '--timeout', '30s', '--json'],
        { timeoutMs: 60_000 },
      );
      expect(result.code, show(result)).toBe(0);
      expect(await diffTrees(path.join(dataParent, 'payload'), path.join(out, 'payload'))).toEqual(
        [],
      );
      // Started once (by the metadata fetch), completed once, stopped once: never a second start.
      expect(events.filter((event) => event === 'started')).toEqual(['started']);
      expect(events).toContain('completed');
    } finally {
      tracker.close();
      seeder.proc.kill('SIGTERM');
    }
  }, 120_000);

  it('fetches metadata from python3-libtorrent (inspect --fetch) and downloads from it', async () => {
    const lt = await startLibtorrent({ mode: 'seed', torrent, save: dataParent });
    const magnet = `magnet:?xt=urn:btih:${infoHash}&x.pe=127.0.0.1:${lt.port}`;
    const inspect = await runShoal(['inspect', magnet, '--fetch', '--json', '--timeout', '30s'], {
      timeoutMs: 60_000,
    });
    expect(inspect.code, show(inspect)).toBe(0);
    const doc = JSON.parse(inspect.stdout) as { infoHash: string; name: string; files: unknown[] };
    expect(doc.infoHash).toBe(infoHash);
    expect(doc.name).toBe('payload');
    expect(doc.files.length).toBe(spanningTree().length);

    const out = path.join(work, 'out-lt');
    const result = await runShoal(['download', magnet, '-o', out, '--timeout', '30s'], {
      timeoutMs: 60_000,
    });
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(path.join(dataParent, 'payload'), path.join(out, 'payload'))).toEqual(
      [],
    );
    lt.proc.kill();
    // Two runs bounded at 60 s each, after libtorrent checks its data.
  }, 180_000);

  it('exits 4 with a clear message when nobody has the metadata', async () => {
    const result = await runShoal([
      'download',
      'ab'.repeat(20),
      '-o',
      path.join(work, 'none'),
      '--timeout',
      '2s',
    ]);
    expect(result.code, show(result)).toBe(4);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^shoal: error: no peers found/);
  });
});

describe('DHT', () => {
  const nodes: DHT[] = [];

  afterAll(async () => {
    await Promise.all(
      nodes.map((node) => new Promise<void>((resolve) => node.destroy(() => resolve()))),
    );
  });

  it('finds a seeder only through a private DHT on 127.0.0.1 and downloads from a bare info-hash', async () => {
    // Five linked nodes: nobody here knows any public router.
    for (let i = 0; i < 5; i++) {
      const node = new DHT({ bootstrap: false });
      await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', () => resolve()));
      nodes.push(node);
    }
    for (const a of nodes) {
      for (const b of nodes) if (a !== b) a.addNode({ host: '127.0.0.1', port: b.address().port });
    }
    const bootstrap = (i: number) => ['--dht-bootstrap', `127.0.0.1:${nodes[i].address().port}`];
    const seeder = await startShoalSeeder(torrent, dataParent, bootstrap(0), isolated());
    const out = path.join(work, 'out-dht');
    const result = await runShoal(
      ['download', infoHash, '-o', out, '--timeout', '60s', '--json', ...bootstrap(3)],
      {
        ...isolated(),
        timeoutMs: 90_000,
      },
    );
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(path.join(dataParent, 'payload'), path.join(out, 'payload'))).toEqual(
      [],
    );
    seeder.proc.kill('SIGTERM');
    // One download bounded at 90 s, after starting the DHT and a seeder.
  }, 150_000);
});

describe('PEX', () => {
  it('a leecher that knows one seeder learns the other through it', async () => {
    // Seeder A is slow on purpose; seeder B is known to A only (B dialled A).
    const a = await startShoalSeeder(torrent, dataParent, ['--upload-limit', '64KiB']);
    const b = await startShoalSeeder(torrent, dataParent, peerArg(a.port));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const out = path.join(work, 'out-pex');
    const result = await runShoal(
      ['download', torrent, '-o', out, '--json', '--timeout', '60s', ...peerArg(a.port)],
      {
        timeoutMs: 90_000,
      },
    );
    expect(result.code, show(result)).toBe(0);
    const doc = JSON.parse(result.stdout) as DownloadJson;
    // Two different peers took part: the second can only have come from A's PEX.
    expect(doc.peers).toBeGreaterThanOrEqual(2);
    expect(await diffTrees(path.join(dataParent, 'payload'), path.join(out, 'payload'))).toEqual(
      [],
    );
    a.proc.kill('SIGTERM');
    b.proc.kill('SIGTERM');
    // One download bounded at 90 s, after starting two seeders.
  }, 150_000);
});
