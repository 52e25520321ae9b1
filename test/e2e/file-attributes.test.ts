/**
 * BEP 47 file attributes through the command line: a download from a shoal
 * seeder makes the `x` file executable and the `l` entry a link inside the
 * download, and the result stays usable: a second `download` into the same
 * folder, `inspect --verify` and `seed` from it all accept the link instead
 * of refusing it as a symlink planted in the output directory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstatSync, readlinkSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeBencode } from '../../src/core/bencode/index.ts';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { peerArg, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

const PIECE = 16 * 1024;
const text = (s: string) => Buffer.from(s, 'utf8');

let work: string;
let seedParent: string;
let torrent: string;
let script: Buffer;
let data: Buffer;

beforeAll(async () => {
  work = tempDir('shoal-e2e-attrs-');
  seedParent = path.join(work, 'seed');
  await mkdir(path.join(seedParent, 'tree'), { recursive: true });
  script = Buffer.concat([text('#!/bin/sh\necho hi\n'), randomBytes(40_000)]);
  data = randomBytes(100_001);
  await writeFile(path.join(seedParent, 'tree/run.sh'), script);
  await writeFile(path.join(seedParent, 'tree/data.bin'), data);
  // The pieces hash the files' bytes in order; the link's bytes count as none.
  const all = Buffer.concat([script, data]);
  const pieces = [];
  for (let at = 0; at < all.length; at += PIECE)
    pieces.push(
      createHash('sha1')
        .update(all.subarray(at, at + PIECE))
        .digest(),
    );
  const info = {
    name: text('tree'),
    'piece length': PIECE,
    pieces: Buffer.concat(pieces),
    files: [
      { length: script.length, path: [text('run.sh')], attr: text('x') },
      { length: data.length, path: [text('data.bin')] },
      { length: 0, path: [text('latest')], attr: text('l'), 'symlink path': [text('data.bin')] },
    ],
  };
  torrent = path.join(work, 'attrs.torrent');
  await writeFile(torrent, encodeBencode({ info }));
}, 60_000);

describe('BEP 47 attributes applied by download', () => {
  it('makes x files executable and l entries links inside the download; the folder stays usable', async () => {
    const seeder = await startShoalSeeder(torrent, seedParent);
    const out = path.join(work, 'out');
    try {
      const first = await runShoal(
        ['download', torrent, '-o', out, '--no-dht', ...peerArg(seeder.port), '--timeout', '30s'],
        { timeoutMs: 60_000 },
      );
      expect(first.code, show(first)).toBe(0);
    } finally {
      seeder.proc.kill('SIGTERM');
    }
    expect(statSync(path.join(out, 'tree/run.sh')).mode & 0o111).not.toBe(0);
    expect(statSync(path.join(out, 'tree/data.bin')).mode & 0o111).toBe(0);
    expect(lstatSync(path.join(out, 'tree/latest')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(out, 'tree/latest'))).toBe('data.bin');
    expect((await readFile(path.join(out, 'tree/latest'))).equals(data)).toBe(true);

    // Run again: everything is there, nothing to fetch, no peer needed.
    const again = await runShoal(['download', torrent, '-o', out, '--no-dht', '--timeout', '10s']);
    expect(again.code, show(again)).toBe(0);
    const verify = await runShoal(['inspect', torrent, '--verify', out]);
    expect(verify.code, show(verify)).toBe(0);
    const seed = await runShoal(['seed', torrent, '-d', out, '--no-dht', '--seed-time', '1s'], {
      timeoutMs: 60_000,
    });
    expect(seed.code, show(seed)).toBe(0);
  }, 120_000);
});
