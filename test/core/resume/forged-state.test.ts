/**
 * #15 item 5, as a user meets it: someone who can write to the output
 * directory puts garbage where the data goes and a resume snapshot claiming
 * every piece, with fingerprints of the garbage. shoal must not trust it: the
 * garbage fails SHA-1, nothing is "complete", and with no peer the download
 * gives up (exit 4) instead of reporting success (exit 0).
 *
 * Two forgeries: the old format (unkeyed xxh64 fingerprints and checksum,
 * which the attacker can compute) and the current format authenticated under
 * a key of the attacker's choosing (the user's key is outside OUT).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { xxh64 } from '@node-rs/xxhash';
import { createTorrent } from '../../../src/core/create/build-torrent.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import { parseTorrent, toHex } from '../../../src/core/metainfo/index.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { runShoal, show, trackProcesses } from '../../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';

trackProcesses();
cleanupTempDirs();

const PIECE = 16 * 1024;
const PIECES = 4;
let work: string;
let torrent: string;
let meta: Metainfo;
let stateHome: string;

beforeAll(async () => {
  work = tempDir('shoal-forged-');
  stateHome = tempDir('shoal-state-');
  const data = join(work, 'data.bin');
  writeFileSync(data, randomBytes(PIECES * PIECE));
  const pool = new HashPool({ threads: 1 });
  try {
    const created = await createTorrent({
      path: data,
      version: 'v1',
      pieceLength: PIECE,
      creationDate: null,
      pool,
    });
    torrent = join(work, 'data.torrent');
    writeFileSync(torrent, created.torrentBytes);
    meta = parseTorrent(created.torrentBytes);
  } finally {
    await pool.destroy();
  }
});

/** A snapshot claiming every piece of `garbage`, in format `version`, checksummed by `seal`. */
function snapshotClaiming(garbage: Buffer, version: 1 | 2, seal: (body: Buffer) => Buffer): Buffer {
  const header = Buffer.alloc(36 + 4);
  header.write(`SHOALRS${String.fromCharCode(version)}`, 0, 'latin1');
  Buffer.from(meta.infoHash!).copy(header, 8);
  header.writeUInt32LE(PIECES, 28);
  header.writeUInt32LE(PIECE, 32);
  header.writeUInt32LE(PIECES, 36);
  const entries = Buffer.alloc(PIECES * 12);
  for (let i = 0; i < PIECES; i++) {
    entries.writeUInt32LE(i, i * 12);
    entries.writeBigUInt64LE(xxh64(garbage.subarray(i * PIECE, (i + 1) * PIECE)), i * 12 + 4);
  }
  const body = Buffer.concat([header, entries]);
  return Buffer.concat([body, seal(body)]);
}

const forgeries = {
  'old format, unkeyed xxh64 checksum': (garbage: Buffer) =>
    snapshotClaiming(garbage, 1, (body) => {
      const sum = Buffer.alloc(8);
      sum.writeBigUInt64LE(xxh64(body));
      return sum;
    }),
  'current format, MAC under the attacker’s key': (garbage: Buffer) =>
    snapshotClaiming(garbage, 2, (body) =>
      createHmac('sha256', randomBytes(32)).update(body).digest(),
    ),
};

describe('a forged resume snapshot is not trusted', () => {
  for (const [name, forge] of Object.entries(forgeries)) {
    it(name, async () => {
      const out = join(work, name.replace(/\W+/g, '-'));
      mkdirSync(join(out, '.shoal'), { recursive: true, mode: 0o700 });
      const garbage = randomBytes(PIECES * PIECE);
      writeFileSync(join(out, 'data.bin'), garbage);
      writeFileSync(join(out, '.shoal', `${toHex(meta.infoHash!)}.resume`), forge(garbage));
      const result = await runShoal(['download', torrent, '-o', out, '--timeout', '3s', '--json'], {
        env: { XDG_STATE_HOME: stateHome },
      });
      expect(result.code, show(result)).toBe(4);
      expect(result.stdout).not.toMatch(/"status":\s*"complete"/);
      // The garbage is still there (never verified, so never "completed" or cut).
      expect(readFileSync(join(out, 'data.bin'))).toEqual(garbage);
    });
  }
});
