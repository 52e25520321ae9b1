import { generateKeyPairSync } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/core/errors.ts';
import { createKeyFile, readKeyFile, verifyEd25519 } from '../../../src/core/updatable/keys.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';
import { shoalFailure } from './shoal-failure.ts';

cleanupTempDirs();

describe('ed25519 key files', () => {
  it('creates a PEM key readable by its owner only, and reads it back', async () => {
    const file = path.join(tempDir('shoal-keys-'), 'publisher.key');
    const publicKey = await createKeyFile(file);
    expect(publicKey).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = await readKeyFile(file);
    expect(key.publicKey.equals(publicKey)).toBe(true);
    const data = Buffer.from('3:seqi1e1:v20:xxxxxxxxxxxxxxxxxxxx');
    const signature = key.sign(data);
    expect(verifyEd25519(signature, data, publicKey)).toBe(true);
    expect(verifyEd25519(signature, Buffer.from('3:seqi2e'), publicKey)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[0]! ^= 1;
    expect(verifyEd25519(flipped, data, publicKey)).toBe(false);
    expect(verifyEd25519(signature.subarray(1), data, publicKey)).toBe(false);
    expect(verifyEd25519(signature, data, Buffer.alloc(32, 0xff))).toBe(false);
  });

  it('never overwrites an existing file', async () => {
    const file = path.join(tempDir('shoal-keys-'), 'publisher.key');
    await writeFile(file, 'precious');
    const error = await shoalFailure(createKeyFile(file));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe(`${file} already exists: shoal never overwrites a key file`);
    expect(await readFile(file, 'utf8')).toBe('precious');
  });

  it('refuses files that are not ed25519 private keys, in one line', async () => {
    const dir = tempDir('shoal-keys-');
    const garbage = path.join(dir, 'garbage.key');
    await writeFile(garbage, 'not a key\n');
    const rsa = path.join(dir, 'rsa.key');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await writeFile(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const huge = path.join(dir, 'huge.key');
    await writeFile(huge, Buffer.alloc(100_000, 0x41));
    const cases: [string, string][] = [
      [garbage, 'is not a private key file'],
      [rsa, 'holds a rsa key, not ed25519'],
      [huge, 'too large to be a key file'],
      [dir, 'is not a key file'],
      [path.join(dir, 'missing.key'), 'no such key file'],
    ];
    for (const [file, why] of cases) {
      const error = await shoalFailure(readKeyFile(file));
      expect(error.exitCode, file).toBe(ExitCode.badInput);
      expect(error.message).toContain(why);
      expect(error.message).not.toContain('\n');
    }
  });
});
