import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkExpectations,
  resolveExpectations,
  sha256OfFile,
} from '../../../src/core/script/digests.ts';
import { UsageError, VerifyError } from '../../../src/core/errors.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';

cleanupTempDirs();

const torrentFile = (p: string, padding = false) => ({
  path: p.split('/'),
  length: 1,
  offset: 0,
  padding,
  attr: '',
  piecesRoot: null,
});
const ZEROS = `sha256:${'0'.repeat(64)}`;
const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

describe('digests', () => {
  it('streams a file through SHA-256', async () => {
    const file = path.join(tempDir('shoal-digest-'), 'abc');
    await writeFile(file, 'abc');
    expect(await sha256OfFile(file)).toBe(ABC);
  });

  it('ties --expect-file to a file by its inspect path or its path inside the torrent folder', () => {
    const meta = { multiFile: true, files: [torrentFile('t/a'), torrentFile('t/sub/b')] };
    const expected = resolveExpectations(
      { expectFile: [`sub/b=sha256:${ABC.toUpperCase()}`, `t/a=${ZEROS}`] },
      meta,
      null,
    );
    expect(expected).toEqual([
      { index: 1, label: 'sub/b', sha256: ABC },
      { index: 0, label: 't/a', sha256: '0'.repeat(64) },
    ]);
  });

  it('refuses bad digests, unknown or unselected files, and --expect on a multi-file torrent', () => {
    const meta = { multiFile: true, files: [torrentFile('t/a'), torrentFile('t/b')] };
    const attempt =
      (flags: { expect?: string; expectFile?: string[] }, selected = null as number[] | null) =>
      () =>
        resolveExpectations(flags, meta, selected);
    expect(attempt({ expectFile: ['a=sha256:abc'] })).toThrow(UsageError);
    expect(attempt({ expectFile: [`nope=${ZEROS}`] })).toThrow(/no such file/);
    expect(attempt({ expectFile: [`a=${ZEROS}`] }, [1])).toThrow(/not selected/);
    expect(attempt({ expect: ZEROS })).toThrow(/single-file torrents/);
  });

  it('a mismatch is exit 6 naming the file and both digests', () => {
    const check = () =>
      checkExpectations([{ index: 0, label: 't/a', sha256: '0'.repeat(64) }], new Map([[0, ABC]]));
    expect(check).toThrow(VerifyError);
    expect(check).toThrow(`t/a: sha256 is ${ABC}, expected ${'0'.repeat(64)}`);
  });
});
