/**
 * Issue #15: nothing outside the output directory is ever touched. Someone
 * who can write to a shared download directory plants symlinks where shoal
 * will write (a torrent's file, one of its directories, `.shoal` and the
 * files in it); shoal, run as a user runs it, must refuse with exit 5 and one
 * line naming the link, and the link's target must stay exactly as it was.
 * The output directory itself may be a symlink: the user chose it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent, toHex } from '../../src/core/metainfo/index.ts';
import type { Metainfo } from '../../src/core/metainfo/types.ts';
import { runShoal, show, trackProcesses, type RunResult } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { FakePeer, seeder } from './fake-peer.ts';

trackProcesses();
cleanupTempDirs();

const PIECE = 16 * 1024;
// a.bin ends inside piece 5, which sub/b.bin starts: a piece shared by two files.
const A = randomBytes(5 * PIECE + 123);
const B = randomBytes(3 * PIECE + 7);
const VICTIM_TEXT = 'precious: must never change\n';

let work: string;
let torrent: string;
let meta: Metainfo;
let hash: string;
let peer: FakePeer;
let stateHome: string;

beforeAll(async () => {
  work = tempDir('shoal-outdir-');
  stateHome = tempDir('shoal-state-');
  const payload = join(work, 'src', 'payload');
  mkdirSync(join(payload, 'sub'), { recursive: true });
  writeFileSync(join(payload, 'a.bin'), A);
  writeFileSync(join(payload, 'sub', 'b.bin'), B);
  const pool = new HashPool({ threads: 1 });
  try {
    const created = await createTorrent({
      path: payload,
      version: 'v1',
      pieceLength: PIECE,
      creationDate: null,
      pool,
    });
    torrent = join(work, 'payload.torrent');
    writeFileSync(torrent, created.torrentBytes);
    meta = parseTorrent(created.torrentBytes);
  } finally {
    await pool.destroy();
  }
  hash = toHex(meta.infoHash!);
  peer = await FakePeer.start(meta.infoHash!, seeder(Buffer.concat([A, B]), PIECE));
});

afterAll(async () => {
  await peer.stop();
});

let cases = 0;
/** A fresh output directory and a victim file outside it, with the text it must keep. */
function scene(): { out: string; victim: string; victimDir: string } {
  const base = join(work, `case-${++cases}`);
  const out = join(base, 'out');
  const victimDir = join(base, 'victim-dir');
  mkdirSync(out, { recursive: true });
  mkdirSync(victimDir);
  const victim = join(victimDir, 'victim.txt');
  writeFileSync(victim, VICTIM_TEXT);
  return { out, victim, victimDir };
}

function download(out: string, ...extra: string[]): Promise<RunResult> {
  return runShoal(
    [
      'download',
      torrent,
      '-o',
      out,
      '--peer',
      `127.0.0.1:${peer.port}`,
      '--timeout',
      '20s',
      ...extra,
    ],
    { env: { XDG_STATE_HOME: stateHome } },
  );
}

/** Exit 5 with one error line that names `path` and says it is a symlink. */
function expectRefused(result: RunResult, path: string): void {
  expect(result.code, show(result)).toBe(5);
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('shoal: error:'));
  expect(errors, show(result)).toHaveLength(1);
  expect(errors[0]).toContain(path);
  expect(errors[0]).toMatch(/symlink/);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

describe('download refuses symlinks inside the output directory', () => {
  it('a link at the path of a torrent file: the link target is not written', async () => {
    const { out, victim } = scene();
    mkdirSync(join(out, 'payload'));
    symlinkSync(victim, join(out, 'payload', 'a.bin'));
    const result = await download(out);
    expectRefused(result, join(out, 'payload', 'a.bin'));
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('a link in place of the torrent directory: nothing lands outside', async () => {
    const { out, victimDir } = scene();
    symlinkSync(victimDir, join(out, 'payload'));
    const result = await download(out);
    expectRefused(result, join(out, 'payload'));
    expect(readdirSync(victimDir)).toEqual(['victim.txt']);
  });

  it('a link in place of a nested directory: nothing lands outside', async () => {
    const { out, victimDir } = scene();
    mkdirSync(join(out, 'payload'));
    symlinkSync(victimDir, join(out, 'payload', 'sub'));
    const result = await download(out);
    expectRefused(result, join(out, 'payload', 'sub'));
    expect(readdirSync(victimDir)).toEqual(['victim.txt']);
  });

  it('a link in place of .shoal: no resume state is written through it', async () => {
    const { out, victimDir } = scene();
    symlinkSync(victimDir, join(out, '.shoal'));
    const result = await download(out);
    expectRefused(result, join(out, '.shoal'));
    expect(readdirSync(victimDir)).toEqual(['victim.txt']);
  });

  it('a link at .shoal/<hash>.journal: its target is not truncated or overwritten', async () => {
    const { out, victim } = scene();
    mkdirSync(join(out, '.shoal'), { mode: 0o700 });
    symlinkSync(victim, join(out, '.shoal', `${hash}.journal`));
    const result = await download(out);
    expectRefused(result, join(out, '.shoal', `${hash}.journal`));
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('a link at .shoal/<hash>.resume: it is not read, and its target is kept', async () => {
    const { out, victim } = scene();
    mkdirSync(join(out, '.shoal'), { mode: 0o700 });
    symlinkSync(victim, join(out, '.shoal', `${hash}.resume`));
    const result = await download(out);
    expectRefused(result, join(out, '.shoal', `${hash}.resume`));
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('a link at the snapshot temp file: the link is replaced, never written through', async () => {
    const { out, victim } = scene();
    mkdirSync(join(out, '.shoal'), { mode: 0o700 });
    symlinkSync(victim, join(out, '.shoal', `${hash}.resume.tmp`));
    const result = await download(out);
    expect(result.code, show(result)).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
    expect(readFileSync(join(out, 'payload', 'a.bin'))).toEqual(A);
  });

  it('a link at .shoal/<hash>.parts: unselected bytes are not written through it', async () => {
    const { out, victim } = scene();
    mkdirSync(join(out, '.shoal'), { mode: 0o700 });
    symlinkSync(victim, join(out, '.shoal', `${hash}.parts`));
    // File 0 only: its last piece holds bytes of sub/b.bin, which go to the parts file.
    const result = await download(out, '--select', '0');
    expectRefused(result, join(out, '.shoal', `${hash}.parts`));
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('.shoal owned by another user is refused', async () => {
    // Tests run as root here (CI does too): chown needs it.
    expect(process.getuid?.(), 'this test needs root to chown').toBe(0);
    const { out } = scene();
    mkdirSync(join(out, '.shoal'), { mode: 0o777 });
    chownSync(join(out, '.shoal'), 65534, 65534);
    const result = await download(out);
    expect(result.code, show(result)).toBe(5);
    expect(result.stderr).toContain(`${join(out, '.shoal')}: it belongs to another user`);
  });

  it('a .shoal it creates is private (mode 0700)', async () => {
    const { out } = scene();
    // --select 0 keeps a parts file, so .shoal outlives the download.
    const result = await download(out, '--select', '0');
    expect(result.code, show(result)).toBe(0);
    expect(statSync(join(out, '.shoal')).mode & 0o777).toBe(0o700);
  });

  it('a rerun (resume) refuses a link planted after the first run', async () => {
    const { out, victim } = scene();
    // First run: a peer that corrupts piece 3 leaves the download incomplete, with resume state.
    const liar = await FakePeer.start(
      meta.infoHash!,
      seeder(Buffer.concat([A, B]), PIECE, (index, _begin, block) =>
        index === 3 ? Buffer.alloc(block.length, 1) : block,
      ),
    );
    try {
      const first = await runShoal(
        ['download', torrent, '-o', out, '--peer', `127.0.0.1:${liar.port}`, '--timeout', '3s'],
        { env: { XDG_STATE_HOME: stateHome } },
      );
      expect(first.code, show(first)).toBe(4);
    } finally {
      await liar.stop();
    }
    expect(existsSync(join(out, '.shoal', `${hash}.resume`))).toBe(true);
    // Between runs, a.bin (or the place it would take) becomes a link to the victim.
    const a = join(out, 'payload', 'a.bin');
    mkdirSync(join(out, 'payload'), { recursive: true });
    rmSync(a, { force: true });
    symlinkSync(victim, a);
    const result = await download(out);
    expectRefused(result, a);
    expect(readFileSync(victim, 'utf8')).toBe(VICTIM_TEXT);
  });

  it('the output directory itself may be a symlink', async () => {
    const { out } = scene();
    const linked = join(out, '..', 'linked-out');
    symlinkSync(out, linked);
    const result = await download(linked);
    expect(result.code, show(result)).toBe(0);
    expect(readFileSync(join(out, 'payload', 'a.bin'))).toEqual(A);
    expect(readFileSync(join(out, 'payload', 'sub', 'b.bin'))).toEqual(B);
  });
});

describe('reading through a link inside the data directory is refused too', () => {
  /** A complete copy of the data, with a.bin replaced by a link to a good copy outside. */
  function linkedData(): { dir: string; link: string } {
    const { out: dir, victimDir } = scene();
    mkdirSync(join(dir, 'payload', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'payload', 'sub', 'b.bin'), B);
    writeFileSync(join(victimDir, 'a.bin'), A);
    const link = join(dir, 'payload', 'a.bin');
    symlinkSync(join(victimDir, 'a.bin'), link);
    return { dir, link };
  }

  it('seed x.torrent -d DIR', async () => {
    const { dir, link } = linkedData();
    const result = await runShoal(
      ['seed', torrent, '-d', dir, '--port', '0', '--seed-time', '1s'],
      {
        env: { XDG_STATE_HOME: stateHome },
      },
    );
    expectRefused(result, link);
  });

  it('inspect --verify DIR', async () => {
    const { dir, link } = linkedData();
    const result = await runShoal(['inspect', torrent, '--verify', dir], {
      env: { XDG_STATE_HOME: stateHome },
    });
    expectRefused(result, link);
  });

  it('seed PATH still follows the links the user put in the data it names', async () => {
    const { dir } = linkedData();
    const result = await runShoal(
      ['seed', join(dir, 'payload'), '--port', '0', '--seed-time', '1s', '--json'],
      { env: { XDG_STATE_HOME: stateHome } },
    );
    expect(result.code, show(result)).toBe(0);
  });
});
