/**
 * The corners of BEP 3/47/52 metainfo (issue 17) as shoal reads them, on the
 * torrents test/helpers/metainfo-corners.ts builds. That libtorrent reads them
 * the same way is test/interop/metainfo-differential.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.ts';
import {
  metainfoToJson,
  parseTorrent,
  toHex,
  type Metainfo,
} from '../../../src/core/metainfo/index.ts';
import { cornerCases } from '../../helpers/metainfo-corners.ts';

const cases = cornerCases();
const byId = new Map(cases.map((c) => [c.id, c]));

function parseCase(id: string): Metainfo {
  const found = byId.get(id);
  if (!found) throw new Error(`no corner case ${id}`);
  return parseTorrent(found.bytes);
}

/** Each file as `path length [padding] [attr] [-> target]`, for compact expectations. */
function listing(meta: Metainfo): string[] {
  return meta.files.map((file) =>
    [
      file.path.join('/'),
      `@${file.offset}+${file.length}`,
      file.padding ? 'pad' : '',
      file.attr ? `attr=${file.attr}` : '',
      file.symlinkPath ? `-> ${file.symlinkPath.join('/')}` : '',
    ]
      .filter(Boolean)
      .join(' '),
  );
}

describe('every corner case gets the verdict it should, refusals in one line with exit 3', () => {
  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, corner) => {
    let result: Metainfo | InputError;
    try {
      result = parseTorrent(corner.bytes);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      result = error;
    }
    if (corner.shoal === 'accept') {
      expect(result).not.toBeInstanceOf(InputError);
    } else {
      expect(result).toBeInstanceOf(InputError);
      const error = result as InputError;
      expect(error.exitCode).toBe(3);
      expect(error.message).not.toContain('\n');
      expect(error.message).toMatch(corner.shoal);
    }
  });
});

describe('BEP 47 attributes', () => {
  it('a symlink takes no room whatever its length says, and keeps its target', () => {
    const meta = parseCase('v1-symlink');
    expect(listing(meta)).toEqual([
      'corner/a.txt @0+100',
      'corner/link @100+0 attr=l -> a.txt',
      'corner/sub/up @100+0 attr=l -> sub/b.txt',
      'corner/sub/b.txt @100+10',
    ]);
    expect(meta.totalSize).toBe(110);
    expect(meta.pieceCount).toBe(1);
  });

  it('inspect --json shows attributes and link targets, and only when there are some', () => {
    expect(metainfoToJson(parseCase('v1-symlink')).files).toEqual([
      { path: 'corner/a.txt', length: 100, padding: false },
      { path: 'corner/link', length: 0, padding: false, attr: 'l', symlink: 'a.txt' },
      { path: 'corner/sub/up', length: 0, padding: false, attr: 'l', symlink: 'sub/b.txt' },
      { path: 'corner/sub/b.txt', length: 10, padding: false },
    ]);
    expect(metainfoToJson(parseCase('v1-executable-hidden')).files[0]).toEqual({
      path: 'corner/run.sh',
      length: 100,
      padding: false,
      attr: 'x',
    });
  });

  it('a symlink needs no length; without a target it is an empty ordinary file', () => {
    expect(listing(parseCase('v1-symlink-without-length'))).toContain(
      'corner/link @100+0 attr=l -> a.txt',
    );
    expect(listing(parseCase('v1-symlink-without-target'))).toEqual([
      'corner/a.txt @0+100',
      'corner/link @100+0 attr=l',
    ]);
  });

  it('a symlink target is sanitized like a path: `..` cannot climb out', () => {
    const link = parseCase('v1-symlink-target-escapes').files[1];
    expect(link.symlinkPath).toEqual(['etc', 'passwd']);
  });

  it('v2 symlinks: length zero, no pieces root needed', () => {
    expect(listing(parseCase('v2-symlink'))).toEqual([
      'corner/a @0+100',
      'corner/link @16384+0 attr=l -> a',
    ]);
  });

  it('x and h are kept as given, unknown letters ignored', () => {
    expect(parseCase('v1-executable-hidden').files.map((file) => file.attr)).toEqual([
      'x',
      'h',
      'hxz',
    ]);
    expect(parseCase('v1-single-executable').files[0].attr).toBe('x');
    expect(parseCase('hybrid-executable').files[2].attr).toBe('x');
    expect(parseCase('v2-executable').files[0].attr).toBe('x');
  });

  it.each([
    ['v1-pad-in-pad-folder', 'corner/.pad/16284'],
    ['v1-pad-with-any-path', 'corner/filler/x'],
    ['v1-pad-without-path', 'corner/.pad/16284'],
    ['v1-pad-with-empty-path', 'corner/.pad/16284'],
  ])('%s: a pad file whatever its path', (id, padPath) => {
    const meta = parseCase(id);
    expect(listing(meta)).toEqual([
      'corner/a @0+100',
      `${padPath} @100+16284 pad attr=p`,
      'corner/b @16384+50',
    ]);
    expect(meta.totalSize).toBe(150);
    expect(meta.spaceSize).toBe(16434);
  });

  it('BitComet padding is recognised by name anywhere in the path', () => {
    const meta = parseCase('v1-pad-bitcomet-name');
    expect(meta.files.map((file) => file.padding)).toEqual([false, true, false, true, false]);
    expect(meta.totalSize).toBe(155);
  });
});

describe('piece lengths, names, sizes, versions', () => {
  it('v1 takes any piece length from 1 byte to 2^30 - 1, as libtorrent does', () => {
    expect(parseCase('v1-piece-length-1').pieceCount).toBe(3000);
    expect(parseCase('v1-piece-length-1000').pieceCount).toBe(3);
    expect(parseCase('v1-piece-length-1073741823').pieceCount).toBe(1);
  });

  it('a multi-file torrent with an unusable name is still laid out under a directory', () => {
    // As libtorrent: an empty name becomes `_`, `..` the info-hash.
    expect(parseCase('v1-multi-empty-name').files[0].path).toEqual(['_', 'a']);
    const dotdot = parseCase('v1-multi-dotdot-name');
    expect(dotdot.files[0].path).toEqual([toHex(dotdot.infoHash!), 'a']);
  });

  it('meta version 1 is a v1 torrent; a v1 dictionary with unsorted keys is hashed as given', () => {
    expect(parseCase('v1-meta-version-1').version).toBe('v1');
    expect(parseCase('v1-unsorted-keys').version).toBe('v1');
  });

  it('a v2 file longer than a piece, with its piece layer', () => {
    const meta = parseCase('v2-file-with-piece-layer');
    expect(meta.pieceLayers.size).toBe(1);
    expect(listing(meta)).toEqual(['corner/big @0+20000', 'corner/s @32768+3']);
  });
});
