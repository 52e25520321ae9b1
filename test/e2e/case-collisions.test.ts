/**
 * Names that are one file on macOS and Windows but two on Linux: `Readme.txt`
 * and `README.TXT`, NFC and NFD `café.txt`. A download lays the later of each
 * pair out as `Readme (1).txt` / `café (1).txt` so nothing is overwritten on
 * any file system, but data laid out under the original names (the source
 * tree itself, or a client that does not rename: aria2c, transmission,
 * libtorrent on Linux) must still seed and verify:
 *
 * - `shoal seed DIR` serves the files from where it read them;
 * - `seed x.torrent -d DIR`, `inspect --verify DIR` and a `download` resuming
 *   into DIR use an original name when the renamed one is absent and the
 *   original is a file of its own (a case-sensitive file system);
 * - when neither is there, the error names the expected file and why it was
 *   renamed.
 * Every download is compared byte for byte with the source.
 */
import { copyFile, cp, link, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, listFiles, makeTree, tempDir } from '../helpers/files.ts';
import { requirePeers, startAria2Leecher } from '../helpers/peers.ts';
import { createTorrent, peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

const NFC = 'caf\u00e9.txt';
const NFD = 'cafe\u0301.txt';

/**
 * Source name -> the name a shoal download gives it. The torrent lists files
 * in UTF-8 byte order, so `README.TXT` (E < e) and NFD `café` (e < é) come
 * first and keep their names; their partners are renamed.
 */
const DOWNLOADED_AS: Record<string, string> = {
  'README.TXT': 'README.TXT',
  'Readme.txt': 'Readme (1).txt',
  [NFD]: NFD,
  [NFC]: 'caf\u00e9 (1).txt',
  'sub/plain.bin': 'sub/plain.bin',
};

let work: string;
/** The source tree, named `d` (the torrent's name). */
let source: string;
let torrent: string;
let infoHash: string;

beforeAll(async () => {
  work = tempDir('shoal-collide-');
  source = path.join(work, 'src', 'd');
  // Sizes not multiples of the 16 KiB pieces, so pieces span the colliding files.
  await makeTree(source, [
    { path: 'Readme.txt', size: 30_001 },
    { path: 'README.TXT', size: 50_003 },
    { path: NFC, size: 20_005 },
    { path: NFD, size: 25_007 },
    { path: 'sub/plain.bin', size: 70_009 },
  ]);
  const made = await createTorrent(source, path.join(work, 'd.torrent'), ['--v1'], { cwd: work });
  torrent = made.torrent;
  infoHash = made.infoHash!;
});

/** Checks that `downloaded` (the torrent's directory in a shoal download) is the source, renamed. */
async function expectShoalLayout(downloaded: string): Promise<void> {
  expect((await listFiles(downloaded)).sort()).toEqual(Object.values(DOWNLOADED_AS).sort());
  for (const [from, to] of Object.entries(DOWNLOADED_AS)) {
    const [want, got] = await Promise.all([
      readFile(path.join(source, from)),
      readFile(path.join(downloaded, to)),
    ]);
    expect(got.equals(want), `${to} holds the bytes of ${from}`).toBe(true);
  }
}

describe('a tree whose names collide by case or Unicode normalisation', () => {
  it('inspect --files shows the names a download writes', async () => {
    const result = await runShoal(['inspect', torrent, '--files'], { cwd: work });
    expect(result.code, show(result)).toBe(0);
    for (const name of Object.values(DOWNLOADED_AS))
      expect(result.stdout.normalize('NFC')).toContain(name.normalize('NFC'));
  });

  it('seed DIR serves the files it read: aria2c and shoal download them byte for byte', async () => {
    requirePeers('aria2c');
    const toAria = path.join(work, 'to-aria2');
    const aria = await startAria2Leecher(torrent, toAria);
    const seeder = spawnShoal(['seed', source, '--port', '0', ...peerArg(aria.port)], {
      cwd: work,
    });
    const magnet = await seeder.waitFor(/^magnet:\?xt=urn:btih:([0-9a-f]{40})/m, 60_000, 'stdout');
    expect(magnet[1], 'seed DIR makes the same torrent as create').toBe(infoHash);
    const port = Number((await seeder.waitFor(/listening on port (\d+)/, 60_000, 'stderr'))[1]);

    const ariaResult = await aria.proc.wait(90_000);
    expect(ariaResult.code, `${aria.proc.describe()}\n${seeder.describe()}`).toBe(0);
    // aria2c keeps the original names: its copy is the source tree exactly.
    expect(await diffTrees(source, path.join(toAria, 'd'))).toEqual([]);

    const toShoal = path.join(work, 'to-shoal');
    const result = await runShoal(
      ['download', torrent, '-o', toShoal, ...peerArg(port), '--timeout', '30s'],
      { cwd: work },
    );
    expect(result.code, `${show(result)}\n${seeder.describe()}`).toBe(0);
    await expectShoalLayout(path.join(toShoal, 'd'));
    expect(seeder.running, seeder.describe()).toBe(true);
  });

  it('data under the original names: inspect --verify, seed -d and a resumed download use it', async () => {
    const other = path.join(work, 'other');
    await cp(source, path.join(other, 'd'), { recursive: true });

    const verified = await runShoal(['inspect', torrent, '--verify', other, '--json'], {
      cwd: work,
    });
    expect(verified.code, show(verified)).toBe(0);

    const seeder = await startShoalSeeder(torrent, other, [], { cwd: work });
    const out = path.join(work, 'from-other');
    const result = await runShoal(
      ['download', torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '30s'],
      { cwd: work },
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    await expectShoalLayout(path.join(out, 'd'));
    seeder.proc.kill('SIGKILL');

    // A download into that directory finds everything there and writes nothing under new names.
    const resumed = await runShoal(
      ['download', torrent, '-o', other, '--timeout', '10s', '--json'],
      {
        cwd: work,
      },
    );
    expect(resumed.code, show(resumed)).toBe(0);
    expect((JSON.parse(resumed.stdout) as { downloaded: number }).downloaded).toBe(0);
    expect(await diffTrees(source, path.join(other, 'd'), /^\.shoal(\/|$)/)).toEqual([]);
  });

  it('an original name that reaches its partner’s file (as on macOS and Windows) is not written through', async () => {
    // A hard link is what a case-insensitive file system shows: two names, one file.
    const dir = path.join(work, 'insensitive', 'd');
    await mkdir(dir, { recursive: true });
    await copyFile(path.join(source, 'README.TXT'), path.join(dir, 'README.TXT'));
    await link(path.join(dir, 'README.TXT'), path.join(dir, 'Readme.txt'));

    const seeder = spawnShoal(['seed', source, '--port', '0'], { cwd: work });
    const port = Number((await seeder.waitFor(/listening on port (\d+)/, 60_000, 'stderr'))[1]);
    const result = await runShoal(
      ['download', torrent, '-o', path.dirname(dir), ...peerArg(port), '--timeout', '30s'],
      { cwd: work },
    );
    expect(result.code, `${show(result)}\n${seeder.describe()}`).toBe(0);
    // README.TXT kept its bytes; Readme.txt's went to the renamed file, not through the link.
    const readme = await readFile(path.join(source, 'README.TXT'));
    expect((await readFile(path.join(dir, 'README.TXT'))).equals(readme)).toBe(true);
    expect((await readFile(path.join(dir, 'Readme.txt'))).equals(readme)).toBe(true);
    expect(
      (await readFile(path.join(dir, 'Readme (1).txt'))).equals(
        await readFile(path.join(source, 'Readme.txt')),
      ),
    ).toBe(true);
  });

  it('a renamed file under neither name: the error names it and says why it was renamed', async () => {
    const partial = path.join(work, 'partial');
    await cp(source, path.join(partial, 'd'), { recursive: true });
    await rm(path.join(partial, 'd', 'Readme.txt'));

    const verified = await runShoal(['inspect', torrent, '--verify', partial], { cwd: work });
    expect(verified.code, show(verified)).toBe(6);
    const error = verified.stderr.split('\n').filter((l) => l.startsWith('shoal: error:'));
    expect(error, show(verified)).toHaveLength(1);
    expect(error[0]).toContain('d/Readme (1).txt');
    expect(error[0]).toMatch(/renamed from d\/Readme\.txt/);
    expect(error[0]).toMatch(/case or Unicode/);

    const seeded = await runShoal(['seed', torrent, '-d', partial, '--port', '0'], { cwd: work });
    expect(seeded.code, show(seeded)).toBe(6);
    expect(seeded.stderr).toContain('d/Readme (1).txt');
    expect(seeded.stderr).toMatch(/renamed from d\/Readme\.txt/);
  });
});
