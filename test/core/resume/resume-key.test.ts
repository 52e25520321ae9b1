/**
 * The resume key file: created once (0600, whole), reused, and never taken
 * from a place someone else controls (a symlink, a file of another user).
 * All under temporary directories: never the real home.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOrCreateKey, resumeKeyPath } from '../../../src/core/resume/resume-key.ts';

const made: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-key-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('resume key', () => {
  it('lives in $XDG_STATE_HOME/shoal, else ~/.local/state/shoal', () => {
    expect(resumeKeyPath({ XDG_STATE_HOME: '/x/state' })).toBe('/x/state/shoal/resume.key');
    expect(resumeKeyPath({ XDG_STATE_HOME: 'relative' })).toMatch(
      /\/\.local\/state\/shoal\/resume\.key$/,
    );
  });

  it('is created once, 32 random bytes, mode 0600, and then reused', () => {
    const path = join(fresh(), 'shoal', 'resume.key');
    const first = readOrCreateKey(path);
    expect(first).toHaveLength(32);
    expect(readFileSync(path)).toEqual(first);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readOrCreateKey(path)).toEqual(first);
    // No temporary file is left beside it.
    expect(readdirSync(join(path, '..'))).toEqual(['resume.key']);
  });

  it('is not read through a symlink', () => {
    const dir = fresh();
    const elsewhere = join(dir, 'elsewhere.key');
    writeFileSync(elsewhere, Buffer.alloc(32, 1), { mode: 0o600 });
    mkdirSync(join(dir, 'shoal'));
    symlinkSync(elsewhere, join(dir, 'shoal', 'resume.key'));
    expect(readOrCreateKey(join(dir, 'shoal', 'resume.key'))).toBeNull();
  });

  it('is not taken from a file owned by another user', () => {
    expect(process.getuid?.(), 'this test needs root to chown').toBe(0);
    const path = join(fresh(), 'resume.key');
    writeFileSync(path, Buffer.alloc(32, 1), { mode: 0o600 });
    chownSync(path, 65534, 65534);
    expect(readOrCreateKey(path)).toBeNull();
  });

  it('a key readable by others is made private', () => {
    const path = join(fresh(), 'resume.key');
    writeFileSync(path, Buffer.alloc(32, 2), { mode: 0o644 });
    expect(readOrCreateKey(path)).toEqual(Buffer.alloc(32, 2));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
