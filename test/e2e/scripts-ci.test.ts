/**
 * What a script and a CI job need from `shoal download` (issue #22), run as
 * a user would against a python3-libtorrent seeder: completion hooks and
 * their environment, receipts, expected digests, GitHub Actions outputs,
 * file globs, the progress interval; and `seed --on-seed-done`. Failure
 * paths included: a hook on failure, a wrong digest, no CI variables, a glob
 * that matches nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses, type RunOptions } from '../helpers/cli.ts';
import {
  cleanupTempDirs,
  listFiles,
  spanningPayload,
  spanningTree,
  tempDir,
} from '../helpers/files.ts';
import { requirePeers, startLibtorrent, type LibtorrentPeer } from '../helpers/peers.ts';
import { freePort } from '../helpers/ports.ts';
import { createTorrent, peerArg } from '../helpers/swarm.ts';

// The seeders live for the whole file: only the afterAll hook kills processes.
trackProcesses({ concurrent: true });
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

/** The SHOAL_* variables a hook saw, as it wrote them with `env`. */
async function hookEnv(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((line) => line.startsWith('SHOAL_'))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('shoal download in scripts and CI, from a libtorrent seeder', () => {
  requirePeers('libtorrent');
  let work: string;
  let payload: string;
  let multi: { torrent: string; infoHash: string | null };
  let single: { torrent: string; infoHash: string | null };
  let singleFile: string;
  let multiSeeder: LibtorrentPeer;
  let singleSeeder: LibtorrentPeer;
  let hook: string;
  let outCount = 0;

  beforeAll(async () => {
    let seedParent: string;
    ({ work, seedParent, payload } = await spanningPayload('shoal-scripts-'));
    const singleDir = path.join(work, 'single');
    await mkdir(singleDir);
    singleFile = path.join(singleDir, 'app.bin');
    await writeFile(singleFile, randomBytes(200_000));
    multi = await createTorrent(payload, path.join(work, 'payload.torrent'), [
      '--piece-length',
      '16KiB',
    ]);
    single = await createTorrent(singleFile, path.join(work, 'app.torrent'), [
      '--piece-length',
      '16KiB',
    ]);
    [multiSeeder, singleSeeder] = await Promise.all([
      startLibtorrent({ mode: 'seed', torrent: multi.torrent, save: seedParent, timeoutS: 900 }),
      startLibtorrent({ mode: 'seed', torrent: single.torrent, save: singleDir, timeoutS: 900 }),
    ]);
    hook = path.join(work, 'hook.sh');
    // The binary project runs shoal with no usable PATH (test/sea/without-node.sh), and a hook
    // inherits shoal's environment: hooks name their tools by full path.
    await writeFile(
      hook,
      '#!/bin/sh\necho "hook ran"\n/usr/bin/env | /usr/bin/grep "^SHOAL_" > "$HOOK_LOG"\n',
    );
    await chmod(hook, 0o755);
  });

  /** `shoal download` from the seeder of `which` into a fresh directory. */
  async function download(which: 'multi' | 'single', extra: string[], options: RunOptions = {}) {
    const out = path.join(work, `out-${++outCount}`);
    const seeder = which === 'multi' ? multiSeeder : singleSeeder;
    const torrent = which === 'multi' ? multi.torrent : single.torrent;
    const result = await runShoal(
      ['download', torrent, '-o', out, ...peerArg(seeder.port), '--timeout', '30s', ...extra],
      {
        cwd: work,
        ...options,
        // Outside GitHub Actions unless a test says otherwise.
        env: { GITHUB_OUTPUT: undefined, GITHUB_STEP_SUMMARY: undefined, ...options.env },
      },
    );
    return { result, out };
  }

  describe('--receipt', () => {
    it('records the info-hash, each selected file with its SHA-256, the bytes and the peer', async () => {
      const receipt = path.join(work, 'receipt.json');
      const { result, out } = await download('multi', ['--receipt', receipt, '--json']);
      expect(result.code, show(result)).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ receipt });
      const doc = JSON.parse(await readFile(receipt, 'utf8'));
      expect(doc).toMatchObject({
        schema: 'shoal-receipt/1',
        name: 'payload',
        infoHash: multi.infoHash,
        infoHashV2: null,
        bytes: { webSeeds: 0 },
      });
      expect(doc.bytes.peers).toBeGreaterThanOrEqual(3_000_000);
      // The one seeder supplied every byte received from peers.
      expect(doc.peers).toEqual([
        {
          address: `127.0.0.1:${multiSeeder.port}`,
          client: expect.any(String),
          bytes: doc.bytes.peers,
        },
      ]);
      expect(Date.parse(doc.endedAt)).toBeGreaterThanOrEqual(Date.parse(doc.startedAt));
      const expected = await Promise.all(
        spanningTree().map(async (file) => ({
          path: `payload/${file.path}`,
          length: file.size,
          sha256: await sha256(path.join(payload, file.path)),
        })),
      );
      const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
      expect([...doc.files].sort(byPath)).toEqual(expected.sort(byPath));
      // The digests are of what is on disk in the output folder.
      const aBin = doc.files.find((file: { path: string }) => file.path === 'payload/a.bin');
      expect(await sha256(path.join(out, 'payload', 'a.bin'))).toBe(aBin.sha256);
    });

    it('an existing receipt is refused before the download (exit 2) unless --force', async () => {
      const receipt = path.join(work, 'old-receipt.json');
      await writeFile(receipt, 'old');
      const refused = await download('single', ['--receipt', receipt]);
      expect(refused.result.code, show(refused.result)).toBe(2);
      expect(refused.result.stderr).toMatch(/already exists \(use --force to overwrite\)/);
      expect(existsSync(refused.out)).toBe(false);
      const forced = await download('single', ['--receipt', receipt, '--force']);
      expect(forced.result.code, show(forced.result)).toBe(0);
      expect(JSON.parse(await readFile(receipt, 'utf8')).files).toEqual([
        { path: 'app.bin', length: 200_000, sha256: await sha256(singleFile) },
      ]);
    });
  });

  describe('--expect and --expect-file', () => {
    it('--expect on a single-file torrent: the right digest is exit 0', async () => {
      const { result } = await download('single', [
        '--expect',
        `sha256:${await sha256(singleFile)}`,
      ]);
      expect(result.code, show(result)).toBe(0);
    });

    it('a wrong digest is exit 6, one line naming the file and both digests; the data stays', async () => {
      const wrong = 'f'.repeat(64);
      const actual = await sha256(singleFile);
      const { result, out } = await download('single', ['--expect', `sha256:${wrong}`]);
      expect(result.code, show(result)).toBe(6);
      expect(result.stderr.trim().split('\n').at(-1)).toBe(
        `shoal: error: app.bin: sha256 is ${actual}, expected ${wrong}`,
      );
      expect(await sha256(path.join(out, 'app.bin'))).toBe(actual);
    });

    it('--expect-file checks each named file of a multi-file torrent', async () => {
      const good = await sha256(path.join(payload, 'media/b.bin'));
      const ok = await download('multi', [
        '--expect-file',
        `media/b.bin=sha256:${good}`,
        '--expect-file',
        `payload/docs/tiny=sha256:${await sha256(path.join(payload, 'docs/tiny'))}`,
      ]);
      expect(ok.result.code, show(ok.result)).toBe(0);
      const bad = await download('multi', ['--expect-file', `docs/tiny=sha256:${good}`]);
      expect(bad.result.code, show(bad.result)).toBe(6);
      expect(bad.result.stderr).toContain(`docs/tiny: sha256 is `);
      expect(bad.result.stderr).toContain(`expected ${good}`);
    });

    it('--expect on a multi-file torrent and a malformed digest are bad usage (exit 2)', async () => {
      const multiFile = await download('multi', ['--expect', `sha256:${'0'.repeat(64)}`]);
      expect(multiFile.result.code, show(multiFile.result)).toBe(2);
      expect(multiFile.result.stderr).toMatch(/--expect applies to single-file torrents/);
      const malformed = await download('single', ['--expect', 'md5:abc']);
      expect(malformed.result.code, show(malformed.result)).toBe(2);
    });
  });

  describe('--on-done hooks', () => {
    it('runs the program with the result in SHOAL_* variables; its output goes to stderr', async () => {
      const log = path.join(work, 'hook-success.env');
      const receipt = path.join(work, 'hook-receipt.json');
      const { result, out } = await download(
        'single',
        ['--on-done', hook, '--receipt', receipt, '--json'],
        { env: { HOOK_LOG: log } },
      );
      expect(result.code, show(result)).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ name: 'app.bin' }); // stdout stays JSON
      expect(result.stderr).toContain('hook ran');
      const env = await hookEnv(log);
      expect(env).toMatchObject({
        SHOAL_STATUS: '0',
        SHOAL_NAME: 'app.bin',
        SHOAL_INFO_HASH: single.infoHash,
        SHOAL_INFO_HASH_V2: '',
        SHOAL_OUT: out,
        SHOAL_PATH: path.join(out, 'app.bin'),
        SHOAL_BYTES: '200000',
        SHOAL_RECEIPT: receipt,
      });
      expect(Number(env.SHOAL_SECONDS)).toBeGreaterThan(0);
    });

    it('runs on failure too, with the exit code shoal returns and no SHOAL_RECEIPT', async () => {
      const log = path.join(work, 'hook-failure.env');
      const closed = await freePort();
      const out = path.join(work, 'out-failure');
      const hooked = await runShoal(
        [
          'download',
          single.torrent,
          '-o',
          out,
          '--peer',
          `127.0.0.1:${closed}`,
          '--timeout',
          '3s',
          '--receipt',
          path.join(work, 'never.json'),
          '--on-done',
          hook,
        ],
        { cwd: work, env: { HOOK_LOG: log, SHOAL_RECEIPT: 'stale' } },
      );
      expect(hooked.code, show(hooked)).toBe(4);
      const env = await hookEnv(log);
      expect(env).toMatchObject({ SHOAL_STATUS: '4', SHOAL_NAME: 'app.bin', SHOAL_BYTES: '0' });
      expect(env.SHOAL_RECEIPT).toBeUndefined();
      expect(existsSync(path.join(work, 'never.json'))).toBe(false);
    });

    it('a hook runs even when the torrent cannot be read (exit 3), with empty fields', async () => {
      const log = path.join(work, 'hook-bad-torrent.env');
      const bad = path.join(work, 'bad.torrent');
      await writeFile(bad, 'not bencode');
      const result = await runShoal(['download', bad, '--on-done', hook], {
        cwd: work,
        env: { HOOK_LOG: log },
      });
      expect(result.code, show(result)).toBe(3);
      expect(await hookEnv(log)).toMatchObject({
        SHOAL_STATUS: '3',
        SHOAL_NAME: '',
        SHOAL_PATH: '',
      });
    });

    it('--on-done-shell runs a line through /bin/sh, pipes included', async () => {
      const file = path.join(work, 'shell-hook.txt');
      const { result } = await download('single', [
        '--on-done-shell',
        `echo "$SHOAL_NAME $SHOAL_STATUS" | /usr/bin/tr a-z A-Z > ${file}`,
      ]);
      expect(result.code, show(result)).toBe(0);
      expect(await readFile(file, 'utf8')).toBe('APP.BIN 0\n');
    });

    it("a failing hook only warns, unless --on-done-required: then its status is shoal's", async () => {
      const failing = ['--on-done-shell', 'echo failing hook; exit 3'];
      const warned = await download('single', failing);
      expect(warned.result.code, show(warned.result)).toBe(0);
      expect(warned.result.stderr).toMatch(/warning: --on-done-shell exited 3/);
      const required = await download('single', [...failing, '--on-done-required']);
      expect(required.result.code, show(required.result)).toBe(3);
      expect(required.result.stderr).toMatch(/--on-done-shell exited 3 \(the hook is required\)/);
    });

    it('a hook that hangs is stopped at --on-done-timeout (124 when required)', async () => {
      const hanging = ['--on-done-shell', '/usr/bin/sleep 100', '--on-done-timeout', '1s'];
      const warned = await download('single', hanging);
      expect(warned.result.code, show(warned.result)).toBe(0);
      expect(warned.result.stderr).toMatch(/--on-done-shell timed out after 1s/);
      const required = await download('single', [...hanging, '--on-done-required']);
      expect(required.result.code, show(required.result)).toBe(124);
    });

    it('--on-done and --on-done-shell together are bad usage', async () => {
      const { result } = await download('single', ['--on-done', hook, '--on-done-shell', 'true']);
      expect(result.code, show(result)).toBe(2);
    });
  });

  describe('GitHub Actions outputs', () => {
    it('appends path=, info-hash=, bytes= to GITHUB_OUTPUT and a summary to GITHUB_STEP_SUMMARY', async () => {
      const outputFile = path.join(work, 'github-output');
      const summaryFile = path.join(work, 'github-summary');
      await writeFile(outputFile, 'earlier=kept\n');
      const { result, out } = await download('single', [], {
        env: { GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile },
      });
      expect(result.code, show(result)).toBe(0);
      expect(await readFile(outputFile, 'utf8')).toBe(
        `earlier=kept\npath=${path.join(out, 'app.bin')}\ninfo-hash=${single.infoHash}\nbytes=200000\n`,
      );
      const summary = await readFile(summaryFile, 'utf8');
      expect(summary).toContain('### shoal download');
      expect(summary).toContain('| Name | `app.bin` |');
      expect(summary).toContain('| Sources | 1 peer |');
    });

    it('writes neither outside Actions (the variables unset)', async () => {
      const cwd = tempDir('shoal-no-ci-');
      const { result } = await download('single', [], { cwd });
      expect(result.code, show(result)).toBe(0);
      expect(await listFiles(cwd)).toEqual([]);
    });
  });

  describe('--select globs and --exclude', () => {
    it('picks files by glob and index; unselected files are never created in the output tree', async () => {
      const { result, out } = await download('multi', [
        '--select',
        '*.bin,docs/tiny',
        '--exclude',
        'media/**',
      ]);
      expect(result.code, show(result)).toBe(0);
      expect(await listFiles(path.join(out, 'payload'))).toEqual([
        'a.bin',
        'docs/deep/er/c.bin',
        'docs/deep/er/d.bin',
        'docs/tiny',
        'z/last.bin',
      ]);
      for (const file of ['a.bin', 'docs/tiny', 'z/last.bin'])
        expect(await sha256(path.join(out, 'payload', file))).toBe(
          await sha256(path.join(payload, file)),
        );
    });

    it('a glob that matches nothing is exit 2 with the list of files', async () => {
      const { result, out } = await download('multi', ['--select', '*.iso']);
      expect(result.code, show(result)).toBe(2);
      const line = result.stderr.trim().split('\n').at(-1)!;
      expect(line).toMatch(
        /^shoal: error: --select '\*\.iso' matches no file; the torrent has: 0 payload\/0-empty-first, 1 payload\/a\.bin, /,
      );
      expect(line).toContain('payload/z/last.bin');
      expect(existsSync(path.join(out, 'payload'))).toBe(false);
    });

    it("--exclude applies to a magnet link's so= selection", async () => {
      const out = path.join(work, 'out-magnet');
      // so=1,7-8: a.bin, media/b.bin, media/small.bin; --exclude takes media/ away.
      const magnet = `magnet:?xt=urn:btih:${multi.infoHash}&so=1,7-8`;
      const result = await runShoal(
        [
          'download',
          magnet,
          '-o',
          out,
          ...peerArg(multiSeeder.port),
          '--timeout',
          '30s',
          '--exclude',
          'media/*',
        ],
        { cwd: work },
      );
      expect(result.code, show(result)).toBe(0);
      expect(await listFiles(path.join(out, 'payload'))).toEqual(['a.bin']);
    });
  });

  it('--progress-interval sets the time between plain progress lines', async () => {
    // The environment asks for one line an hour; the flag wins. A rate cap makes the run last seconds.
    const { result } = await download(
      'multi',
      ['--select', 'media/b.bin', '--download-limit', '200KiB', '--progress-interval', '1s'],
      { env: { SHOAL_PROGRESS_INTERVAL: '3600' } },
    );
    expect(result.code, show(result)).toBe(0);
    const progressLines = result.stderr.split('\n').filter((line) => /\d+(\.\d+)?%/.test(line));
    // Without the flag: only the closing line. With it: lines along the way too.
    expect(progressLines.length, show(result)).toBeGreaterThanOrEqual(2);
  });

  describe('seed --on-seed-done', () => {
    it('runs when seeding ends, with the result in SHOAL_* variables', async () => {
      const log = path.join(work, 'seed-hook.env');
      const result = await runShoal(
        [
          'seed',
          single.torrent,
          '-d',
          path.dirname(singleFile),
          '--port',
          '0',
          '--seed-time',
          '1s',
          '--on-seed-done',
          hook,
        ],
        { cwd: work, env: { HOOK_LOG: log } },
      );
      expect(result.code, show(result)).toBe(0);
      expect(await hookEnv(log)).toMatchObject({
        SHOAL_STATUS: '0',
        SHOAL_NAME: 'app.bin',
        SHOAL_PATH: singleFile,
        SHOAL_BYTES: '0',
      });
    });

    it('runs when seeding fails (incomplete data, exit 6)', async () => {
      const log = path.join(work, 'seed-fail-hook.env');
      const empty = tempDir('shoal-seed-empty-');
      const result = await runShoal(
        ['seed', single.torrent, '-d', empty, '--port', '0', '--on-seed-done', hook],
        { cwd: work, env: { HOOK_LOG: log } },
      );
      expect(result.code, show(result)).toBe(6);
      expect(await hookEnv(log)).toMatchObject({ SHOAL_STATUS: '6', SHOAL_NAME: 'app.bin' });
    });
  });
});
