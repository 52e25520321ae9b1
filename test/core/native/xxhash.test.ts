/**
 * The xxhash loader: the installed package from source, an addon file opened
 * with process.dlopen as inside the single executable, and a clear DiskError
 * when that file cannot be loaded.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskError } from '../../../src/core/errors.ts';
import { loadXxhash, useExtractedXxhash } from '../../../src/core/native/xxhash.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';

cleanupTempDirs();
afterEach(() => useExtractedXxhash(null));

const input = new TextEncoder().encode('shoal');

describe('loadXxhash', () => {
  it('loads the installed package when run from source', () => {
    const xxhash = loadXxhash();
    expect(typeof xxhash.xxh64(input)).toBe('bigint');
    expect(new xxhash.Xxh64().update(input).digest()).toBe(xxhash.xxh64(input));
  });

  it('opens an addon file with dlopen, as the single executable does', () => {
    const fromSource = loadXxhash().xxh64(input);
    const require = createRequire(import.meta.url);
    const packageDir = path.dirname(require.resolve('@node-rs/xxhash/package.json'));
    const addon = createRequire(path.join(packageDir, 'index.js')).resolve(
      `@node-rs/xxhash-${process.platform}-${process.arch}${process.platform === 'linux' ? '-gnu' : ''}`,
    );
    useExtractedXxhash(addon);
    expect(loadXxhash().xxh64(input)).toBe(fromSource);
  });

  it('reports an addon it cannot load as a DiskError saying what to change', () => {
    const bogus = path.join(tempDir('shoal-xxhash-'), 'xxhash.node');
    writeFileSync(bogus, 'not an ELF file');
    useExtractedXxhash(bogus);
    expect(() => loadXxhash()).toThrow(DiskError);
    expect(() => loadXxhash()).toThrow(/cannot load the native addon .*XDG_CACHE_HOME/);
  });
});
