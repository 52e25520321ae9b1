/**
 * BEP 47 attributes applied after a download (storage/file-attributes.ts), on
 * real files: executables get +x, symlinks are made inside the output
 * directory pointing inside the torrent, everything else is skipped with a
 * warning and leaves the disk (and anything outside the directory) untouched.
 */
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTorrent, type Metainfo } from '../../../src/core/metainfo/index.ts';
import { applyFileAttributes } from '../../../src/core/storage/file-attributes.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';
import { v1 } from '../../helpers/metainfo-corners.ts';

cleanupTempDirs();

const text = (s: string) => Buffer.from(s, 'utf8');

/** A multi-file torrent `corner` of these entries (`[path, length, attr?, symlink target?]`). */
function torrentOf(entries: [string, number, string?, string[]?][]): Metainfo {
  return parseTorrent(
    v1({
      files: entries.map(([file, length, attr, target]) => ({
        length,
        path: file.split('/').map(text),
        ...(attr ? { attr: text(attr) } : {}),
        ...(target ? { 'symlink path': target.map(text) } : {}),
      })),
    }),
  );
}

/** Writes the torrent's real, non-link files under `out` as a finished download would have them. */
async function download(meta: Metainfo, out: string): Promise<void> {
  for (const file of meta.files) {
    if (file.padding || file.symlinkPath) continue;
    const target = path.join(out, ...file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, Buffer.alloc(file.length, 0x61));
    await chmod(target, 0o644);
  }
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('applyFileAttributes', () => {
  it('x sets execute wherever read is allowed; h changes nothing; absent files are left alone', async () => {
    const out = tempDir('shoal-attrs-');
    const meta = torrentOf([
      ['run.sh', 10, 'x'],
      ['.hidden', 10, 'h'],
      ['plain', 10],
      ['not-selected', 10, 'x'],
    ]);
    await download(meta, out);
    const report = await applyFileAttributes(meta, out, { selected: new Set([0, 1, 2]) });
    expect(report).toEqual({ executables: ['corner/run.sh'], symlinks: [], warnings: [] });
    expect(mode(path.join(out, 'corner/run.sh'))).toBe(0o755);
    expect(mode(path.join(out, 'corner/.hidden'))).toBe(0o644);
    expect(mode(path.join(out, 'corner/plain'))).toBe(0o644);
    expect(mode(path.join(out, 'corner/not-selected'))).toBe(0o644);
  });

  it('a single-file torrent with x', async () => {
    const out = tempDir('shoal-attrs-');
    const meta = parseTorrent(v1({ name: text('tool'), length: 100, attr: text('x') }));
    await download(meta, out);
    expect((await applyFileAttributes(meta, out)).executables).toEqual(['tool']);
    expect(mode(path.join(out, 'tool'))).toBe(0o755);
  });

  it('makes links to files and directories of the torrent, relative, readable through', async () => {
    const out = tempDir('shoal-attrs-');
    const meta = torrentOf([
      ['data/a.txt', 5],
      ['to-a', 0, 'l', ['data', 'a.txt']],
      // From a subdirectory: the target is still relative to the torrent's root (BEP 47).
      ['sub/up', 0, 'l', ['data', 'a.txt']],
      ['to-dir', 0, 'l', ['data']],
      // libtorrent's `create` writes the target from the download directory, name first.
      ['lt-style', 0, 'l', ['corner', 'data', 'a.txt']],
      // Relative to the link's own directory, which libtorrent also accepts.
      ['data/sibling', 0, 'l', ['a.txt']],
    ]);
    await download(meta, out);
    const report = await applyFileAttributes(meta, out);
    expect(report.warnings).toEqual([]);
    expect(report.symlinks).toEqual([
      'corner/to-a -> data/a.txt',
      'corner/sub/up -> ../data/a.txt',
      'corner/to-dir -> data',
      'corner/lt-style -> data/a.txt',
      'corner/data/sibling -> a.txt',
    ]);
    expect(readlinkSync(path.join(out, 'corner/sub/up'))).toBe('../data/a.txt');
    for (const link of ['to-a', 'sub/up', 'lt-style', 'data/sibling']) {
      expect(readFileSync(path.join(out, 'corner', link), 'utf8')).toBe('aaaaa');
    }
    expect(statSync(path.join(out, 'corner/to-dir')).isDirectory()).toBe(true);
    // Applying again (a rerun) finds the same links and changes nothing.
    expect(await applyFileAttributes(meta, out)).toEqual(report);
  });

  it('never points outside the torrent: escaping, absolute, unknown and empty targets are skipped', async () => {
    const out = tempDir('shoal-attrs-');
    const meta = torrentOf([
      ['a.txt', 5],
      ['escape', 0, 'l', ['..', '..', '..', 'etc', 'passwd']],
      ['absolute', 0, 'l', ['/etc', 'passwd']],
      ['nowhere', 0, 'l', ['missing.txt']],
      ['empty', 0, 'l', ['..']],
      ['self', 0, 'l', ['self']],
    ]);
    await download(meta, out);
    const report = await applyFileAttributes(meta, out);
    expect(report.symlinks).toEqual([]);
    expect(report.warnings).toEqual([
      "skipped symlink corner/escape: its target 'etc/passwd' is not a file or directory of this torrent",
      "skipped symlink corner/absolute: its target '_etc/passwd' is not a file or directory of this torrent",
      "skipped symlink corner/nowhere: its target 'missing.txt' is not a file or directory of this torrent",
      "skipped symlink corner/empty: its target '' is not a file or directory of this torrent",
      'skipped symlink corner/self: it points at itself',
    ]);
    for (const name of ['escape', 'absolute', 'nowhere', 'empty', 'self']) {
      expect(existsSync(path.join(out, 'corner', name))).toBe(false);
    }
  });

  it('replaces only an empty file storage left for the link; data is never destroyed', async () => {
    const out = tempDir('shoal-attrs-');
    const meta = torrentOf([
      ['a.txt', 5],
      ['was-empty', 0, 'l', ['a.txt']],
      ['has-data', 0, 'l', ['a.txt']],
    ]);
    await download(meta, out);
    await writeFile(path.join(out, 'corner/was-empty'), '');
    await writeFile(path.join(out, 'corner/has-data'), 'precious');
    const report = await applyFileAttributes(meta, out);
    expect(report.symlinks).toEqual(['corner/was-empty -> a.txt']);
    expect(report.warnings).toEqual([
      'skipped symlink corner/has-data: a file or directory with data is already there',
    ]);
    expect(lstatSync(path.join(out, 'corner/was-empty')).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(out, 'corner/has-data'), 'utf8')).toBe('precious');
  });

  it('follows no planted link: a linked directory or file skips the entry, outside stays untouched', async () => {
    const out = tempDir('shoal-attrs-');
    const outside = tempDir('shoal-attrs-outside-');
    await writeFile(path.join(outside, 'victim'), 'mine');
    await chmod(path.join(outside, 'victim'), 0o600);
    const meta = torrentOf([
      ['a.txt', 5],
      ['run.sh', 5, 'x'],
      ['linked/l', 0, 'l', ['a.txt']],
    ]);
    await download(meta, out);
    // Someone with write access to OUT swaps run.sh and the `linked` directory for links.
    await rm(path.join(out, 'corner/run.sh'));
    await symlink(path.join(outside, 'victim'), path.join(out, 'corner/run.sh'));
    await symlink(outside, path.join(out, 'corner/linked'));

    const report = await applyFileAttributes(meta, out);
    expect(report.executables).toEqual([]);
    expect(report.symlinks).toEqual([]);
    expect(report.warnings).toHaveLength(2);
    expect(report.warnings[0]).toMatch(
      /^did not make corner\/run\.sh executable: refusing to follow the symlink/,
    );
    expect(report.warnings[1]).toMatch(
      /^skipped symlink corner\/linked\/l: refusing to follow the symlink/,
    );
    expect(mode(path.join(outside, 'victim'))).toBe(0o600);
    expect(existsSync(path.join(outside, 'l'))).toBe(false);
  });
});
