/**
 * `--follow`'s core on a private loopback DHT: each new version a publisher
 * puts is reported once, in order, and a version already in hand is not.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { UpdatableFollower } from '../../../src/core/updatable/follower.ts';
import { createKeyFile, readKeyFile } from '../../../src/core/updatable/keys.ts';
import {
  closeDht,
  openUpdatableDht,
  publishUpdatable,
} from '../../../src/core/updatable/mutable-item.ts';
import type { UpdatableVersion } from '../../../src/core/updatable/mutable-item.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';
import { startPrivateDht } from './private-dht.ts';

cleanupTempDirs();
vi.setConfig({ testTimeout: 60_000 });

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('UpdatableFollower', () => {
  it('reports each new version once and never an older one', async () => {
    const net = await startPrivateDht(4);
    cleanups.push(() => net.close());
    const keyFile = path.join(tempDir('shoal-follow-'), 'k');
    await createKeyFile(keyFile);
    const key = await readKeyFile(keyFile);
    const salt = Buffer.from('stable');
    const publisher = await openUpdatableDht({ bootstrap: [net.entry], host: '127.0.0.1' });
    cleanups.push(() => closeDht(publisher));
    const watcher = await openUpdatableDht({ bootstrap: [net.entry], host: '127.0.0.1' });
    cleanups.push(() => closeDht(watcher));

    const first = randomBytes(20);
    await publishUpdatable(publisher, key, salt, first);
    const seen: UpdatableVersion[] = [];
    const warnings: string[] = [];
    const follower = new UpdatableFollower({
      dht: watcher,
      publicKey: key.publicKey,
      salt,
      intervalMs: 300,
      onVersion: (version) => seen.push(version),
      onWarning: (message) => warnings.push(message),
    });
    cleanups.push(() => follower.stop());
    follower.start();
    await vi.waitFor(() => expect(seen).toHaveLength(1), { timeout: 20_000, interval: 100 });
    expect(seen[0]).toEqual({ infoHash: first, seq: 1 });

    const second = randomBytes(20);
    await publishUpdatable(publisher, key, salt, second);
    await vi.waitFor(() => expect(seen).toHaveLength(2), { timeout: 20_000, interval: 100 });
    expect(seen[1]).toEqual({ infoHash: second, seq: 2 });
    // Several more rounds (every 300 ms): the same version is not reported again.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(seen).toHaveLength(2);
    expect(follower.latestSeq).toBe(2);
    expect(warnings).toEqual([]);

    // A follower that already has version 2 reports nothing until version 3.
    const late: UpdatableVersion[] = [];
    const resumed = new UpdatableFollower({
      dht: watcher,
      publicKey: key.publicKey,
      salt,
      intervalMs: 300,
      onVersion: (version) => late.push(version),
    });
    cleanups.push(() => resumed.stop());
    resumed.start(2);
    const third = randomBytes(20);
    await publishUpdatable(publisher, key, salt, third);
    await vi.waitFor(() => expect(late).toHaveLength(1), { timeout: 20_000, interval: 100 });
    expect(late[0]).toEqual({ infoHash: third, seq: 3 });
  });
});
