/**
 * How the single executable writes its runtime files (src/sea/assets.ts),
 * tested from source: complete-or-absent directories, reuse, repair, stale
 * staging cleanup, the private-directory check, and where the cache lives.
 */
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskError } from '../../src/core/errors.ts';
import { cacheRoot, materialize, type Asset } from '../../src/sea/assets.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';

cleanupTempDirs();

function asset(name: string, text: string, calls?: { count: number }): Asset {
  const bytes = new TextEncoder().encode(text);
  return {
    name,
    size: bytes.length,
    data: () => {
      if (calls) calls.count++;
      return bytes;
    },
  };
}

describe('materialize', () => {
  it('writes every asset into sea-<id> and reuses a complete directory without reading the assets', () => {
    const root = path.join(tempDir('shoal-assets-'), 'cache', 'shoal');
    const calls = { count: 0 };
    const assets = [asset('a.cjs', 'module.exports = 1;', calls), asset('b.node', 'binary', calls)];
    const dir = materialize(root, 'abc', assets);
    expect(dir).toBe(path.join(root, 'sea-abc'));
    expect(readFileSync(path.join(dir, 'a.cjs'), 'utf8')).toBe('module.exports = 1;');
    expect(readdirSync(root)).toEqual(['sea-abc']);
    expect(statSync(root).mode & 0o777).toBe(0o700);
    expect(calls.count).toBe(2);

    const before = statSync(path.join(dir, 'b.node'));
    expect(materialize(root, 'abc', assets)).toBe(dir);
    expect(calls.count).toBe(2);
    expect(statSync(path.join(dir, 'b.node')).ino).toBe(before.ino);
  });

  it('replaces a damaged directory with a complete one', () => {
    const root = tempDir('shoal-assets-');
    const assets = [asset('a.cjs', 'one'), asset('b.node', 'two')];
    const dir = materialize(root, 'x', assets);
    writeFileSync(path.join(dir, 'b.node'), 'truncated!');
    materialize(root, 'x', assets);
    expect(readFileSync(path.join(dir, 'b.node'), 'utf8')).toBe('two');
    expect(readdirSync(root)).toEqual(['sea-x']);
  });

  it('removes staging directories a killed run left behind an hour ago, not fresh ones', () => {
    const root = tempDir('shoal-assets-');
    const old = path.join(root, '.sea-x-1-aaaa');
    const fresh = path.join(root, '.sea-x-2-bbbb');
    mkdirSync(old);
    mkdirSync(fresh);
    const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(old, hourAgo, hourAgo);
    materialize(root, 'x', [asset('a.cjs', 'one')]);
    expect(readdirSync(root).sort()).toEqual(['.sea-x-2-bbbb', 'sea-x']);
  });

  it('refuses a directory under the shared temp dir that others can write to', () => {
    const root = path.join(tempDir('shoal-assets-'), 'shoal-1000');
    mkdirSync(root);
    chmodSync(root, 0o777);
    const assets = [asset('a.cjs', 'one')];
    expect(() => materialize(root, 'x', assets, { shared: true })).toThrow(
      /is not a private directory/,
    );
    chmodSync(root, 0o700);
    expect(materialize(root, 'x', assets, { shared: true })).toBe(path.join(root, 'sea-x'));
  });

  it('turns a cache path it cannot create into a DiskError naming XDG_CACHE_HOME', () => {
    const base = tempDir('shoal-assets-');
    writeFileSync(path.join(base, 'file'), '');
    const attempt = () => materialize(path.join(base, 'file', 'shoal'), 'x', [asset('a', 'b')]);
    expect(attempt).toThrow(DiskError);
    expect(attempt).toThrow(/not a directory; set XDG_CACHE_HOME/);
  });
});

describe('cacheRoot', () => {
  it('prefers XDG_CACHE_HOME, then ~/.cache, then a private directory under the temp dir', () => {
    expect(cacheRoot({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' })).toEqual({
      root: '/x/cache/shoal',
      shared: false,
    });
    expect(cacheRoot({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' })).toEqual({
      root: '/home/u/.cache/shoal',
      shared: false,
    });
  });
});
