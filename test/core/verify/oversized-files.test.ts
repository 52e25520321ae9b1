/**
 * Issue #15 item 3: a file on disk longer than the torrent says is not the
 * torrent's file, even when every piece hashes correctly. A download leaves
 * each file it completes at exactly its length, and `inspect --verify`
 * reports the extra bytes as a mismatch (exit 6, the file named).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTorrent } from '../../../src/core/create/build-torrent.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import { runShoal, show, trackProcesses } from '../../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';

trackProcesses();
cleanupTempDirs();

const PIECE = 16 * 1024;
const A = randomBytes(4 * PIECE + 77);
const B = randomBytes(PIECE + 5);

let work: string;
let torrent: string;
let stateHome: string;

/** A complete copy of the payload under `dir/payload`, with `extra` appended to a.bin and `empty`. */
function dataWithExtraBytes(dir: string, extra: Buffer): void {
  mkdirSync(join(dir, 'payload'), { recursive: true });
  writeFileSync(join(dir, 'payload', 'a.bin'), A);
  appendFileSync(join(dir, 'payload', 'a.bin'), extra);
  writeFileSync(join(dir, 'payload', 'b.bin'), B);
  writeFileSync(join(dir, 'payload', 'empty'), extra);
}

beforeAll(async () => {
  work = tempDir('shoal-oversized-');
  stateHome = tempDir('shoal-state-');
  const payload = join(work, 'src', 'payload');
  mkdirSync(payload, { recursive: true });
  writeFileSync(join(payload, 'a.bin'), A);
  writeFileSync(join(payload, 'b.bin'), B);
  writeFileSync(join(payload, 'empty'), '');
  const pool = new HashPool({ threads: 1 });
  try {
    const created = await createTorrent({
      path: payload,
      version: 'v1',
      pieceLength: PIECE,
      creationDate: null,
      includeHidden: false,
      pool,
    });
    torrent = join(work, 'payload.torrent');
    writeFileSync(torrent, created.torrentBytes);
  } finally {
    await pool.destroy();
  }
});

describe('files longer than the torrent says', () => {
  it('inspect --verify reports them as a mismatch (exit 6) and names them', async () => {
    const dir = join(work, 'inspect');
    dataWithExtraBytes(dir, Buffer.from('attacker was here'));
    const result = await runShoal(['inspect', torrent, '--verify', dir], {
      env: { XDG_STATE_HOME: stateHome },
    });
    expect(result.code, show(result)).toBe(6);
    expect(result.stderr).toMatch(/payload\/a\.bin \(longer than the torrent says\)/);
    expect(result.stderr).toMatch(/payload\/empty \(longer than the torrent says\)/);
    expect(result.stdout).toMatch(/oversized\s+0\s+payload\/a\.bin/);
    expect(result.stdout).not.toMatch(/all files match/);
  });

  it('inspect --verify --json marks them oversized', async () => {
    const dir = join(work, 'inspect-json');
    dataWithExtraBytes(dir, Buffer.from('x'));
    const result = await runShoal(['inspect', torrent, '--verify', dir, '--json'], {
      env: { XDG_STATE_HOME: stateHome },
    });
    expect(result.code, show(result)).toBe(6);
    const doc = JSON.parse(result.stdout) as {
      verify: { ok: boolean; files: { path: string; status: string }[] };
    };
    expect(doc.verify.ok).toBe(false);
    expect(doc.verify.files.map((f) => [f.path, f.status])).toEqual([
      ['payload/a.bin', 'oversized'],
      ['payload/b.bin', 'ok'],
      ['payload/empty', 'oversized'],
    ]);
  });

  it('download --verify leaves every file at exactly its length, so it matches the torrent', async () => {
    const out = join(work, 'download');
    dataWithExtraBytes(out, randomBytes(3 * PIECE));
    // Every piece is already on disk: no peer is needed to complete.
    const result = await runShoal(['download', torrent, '-o', out, '--verify', '--no-dht'], {
      env: { XDG_STATE_HOME: stateHome },
    });
    expect(result.code, show(result)).toBe(0);
    expect(statSync(join(out, 'payload', 'a.bin')).size).toBe(A.length);
    expect(readFileSync(join(out, 'payload', 'a.bin'))).toEqual(A);
    expect(statSync(join(out, 'payload', 'empty')).size).toBe(0);
    // And an independent check agrees.
    const check = await runShoal(['inspect', torrent, '--verify', out], {
      env: { XDG_STATE_HOME: stateHome },
    });
    expect(check.code, show(check)).toBe(0);
  });
});
