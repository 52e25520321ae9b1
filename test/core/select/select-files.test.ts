import { describe, expect, it } from 'vitest';
import { globToRegExp } from '../../../src/core/select/glob.ts';
import { selectFiles } from '../../../src/core/select/select-files.ts';
import { UsageError } from '../../../src/core/errors.ts';

const file = (path: string, padding = false) => ({ path: path.split('/'), padding });
// A multi-file torrent named "rel": every path starts with the torrent's folder.
const files = [
  file('rel/a.iso'),
  file('rel/.pad/100', true),
  file('rel/docs/readme.txt'),
  file('rel/docs/deep/b.iso'),
  file('rel/notes.txt'),
];

describe('globToRegExp', () => {
  it.each([
    ['*.iso', 'a.iso', true],
    ['*.iso', 'dir/a.iso', false],
    ['docs/**', 'docs/deep/b.iso', true],
    ['docs/**/b.iso', 'docs/b.iso', true],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', false],
    ['[ab].txt', 'b.txt', true],
    ['[!ab].txt', 'b.txt', false],
    ['a+b(1).txt', 'a+b(1).txt', true],
    ['a.txt', 'abtxt', false],
  ])('%s against %s is %s', (glob, path, expected) => {
    expect(globToRegExp(glob).test(path)).toBe(expected);
  });
});

describe('selectFiles', () => {
  it('selects everything when nothing is asked', () => {
    expect(selectFiles(files, true, {})).toBeNull();
  });

  it('mixes indexes, ranges and globs; a glob without / matches file names at any depth', () => {
    expect(selectFiles(files, true, { select: '*.iso' })).toEqual([0, 3]);
    expect(selectFiles(files, true, { select: 'docs/**,4' })).toEqual([2, 3, 4]);
    expect(selectFiles(files, true, { select: 'rel/docs/*.txt' })).toEqual([2]);
    expect(selectFiles(files, true, { select: '0,3-4' })).toEqual([0, 3, 4]);
  });

  it('excludes from the selection, the magnet so= list, or all files; padding never selected', () => {
    expect(selectFiles(files, true, { exclude: ['*.txt'] })).toEqual([0, 3]);
    expect(selectFiles(files, true, { select: '*.iso', exclude: ['docs/**'] })).toEqual([0]);
    expect(selectFiles(files, true, { magnetSelection: [0, 2], exclude: ['*.txt'] })).toEqual([0]);
    expect(selectFiles(files, true, { select: '*', exclude: ['*.txt'] })).toEqual([0, 3]);
  });

  it('refuses a glob that matches nothing, listing the files (exit 2)', () => {
    const attempt = () => selectFiles(files, true, { select: '*.zip' });
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(
      "--select '*.zip' matches no file; the torrent has: 0 rel/a.iso, 2 rel/docs/readme.txt, 3 rel/docs/deep/b.iso, 4 rel/notes.txt",
    );
    expect(() => selectFiles(files, true, { exclude: ['*.zip'] })).toThrow(/--exclude '\*.zip'/);
  });

  it('refuses out-of-range and padding indexes, empty parts and an empty result', () => {
    expect(() => selectFiles(files, true, { select: '9' })).toThrow(
      'no file 9; the torrent has files 0-4',
    );
    expect(() => selectFiles(files, true, { select: '1' })).toThrow('file 1 is a padding file');
    expect(() => selectFiles(files, true, { select: '0,,2' })).toThrow(/invalid --select/);
    expect(() => selectFiles(files, true, { select: '*.iso', exclude: ['*.iso'] })).toThrow(
      /leave no file/,
    );
  });
});
