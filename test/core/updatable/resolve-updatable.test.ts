import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ExitCode } from '../../../src/core/errors.ts';
import { createKeyFile, readKeyFile } from '../../../src/core/updatable/keys.ts';
import {
  closeDht,
  openUpdatableDht,
  publishUpdatable,
} from '../../../src/core/updatable/mutable-item.ts';
import { resolveUpdatableMagnet } from '../../../src/core/updatable/resolve-updatable.ts';
import { formatUpdatableMagnet } from '../../../src/core/updatable/updatable-magnet.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';
import { shoalFailure } from './shoal-failure.ts';
import { startPrivateDht, type PrivateDht } from './private-dht.ts';

cleanupTempDirs();
vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

describe('resolveUpdatableMagnet', () => {
  let net: PrivateDht;
  beforeAll(async () => {
    net = await startPrivateDht(4);
  });
  afterAll(async () => {
    await net?.close();
  });

  it('resolves the latest version; nothing published is exit 4; a bad magnet exit 3', async () => {
    const keyFile = path.join(tempDir('shoal-resolve-'), 'k');
    await createKeyFile(keyFile);
    const key = await readKeyFile(keyFile);
    const salt = Buffer.from('beta');
    const magnet = formatUpdatableMagnet({ publicKey: key.publicKey, salt });
    const options = { bootstrap: [net.entry], host: '127.0.0.1' };

    const missing = await shoalFailure(resolveUpdatableMagnet(magnet, options));
    expect(missing.exitCode).toBe(ExitCode.network);
    expect(missing.message).toContain('no version of this updatable torrent');

    const publisher = await openUpdatableDht(options);
    const latest = randomBytes(20);
    try {
      await publishUpdatable(publisher, key, salt, randomBytes(20));
      await publishUpdatable(publisher, key, salt, latest);
    } finally {
      await closeDht(publisher);
    }
    expect(await resolveUpdatableMagnet(magnet, options)).toEqual({ infoHash: latest, seq: 2 });

    const bad = await shoalFailure(resolveUpdatableMagnet('magnet:?xs=urn:btpk:1234', options));
    expect(bad.exitCode).toBe(ExitCode.badInput);
  });
});
