/**
 * The library example (examples/share-and-fetch.ts) runs as a program: one
 * ShoalClient seeds a file, another fetches it by magnet link, and the copy
 * must verify and match byte for byte.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { repoRoot, spawnTracked, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 120_000 });

describe('library example', () => {
  it('seeds with one ShoalClient and downloads with another', async () => {
    const source = tempDir('shoal-lib-src-');
    const out = tempDir('shoal-lib-out-');
    const file = path.join(source, 'payload.bin');
    await writeFile(file, randomBytes(1_500_000));
    const proc = spawnTracked(
      'example',
      path.join(repoRoot, 'node_modules', '.bin', 'node'),
      [path.join(repoRoot, 'examples', 'share-and-fetch.ts'), file, out],
      { timeoutMs: 100_000, env: { XDG_CACHE_HOME: tempDir('shoal-lib-cache-') } },
    );
    const result = await proc.wait(100_000);
    expect(result.code, proc.describe()).toBe(0);
    expect(result.stdout).toMatch(/complete: payload\.bin/);
    expect(result.stdout).toMatch(/verified: ok/);
    expect(await sameFile(file, path.join(out, 'payload.bin'))).toBe(true);
  });
});
