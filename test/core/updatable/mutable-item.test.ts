/**
 * BEP 44/46 through bittorrent-dht on a private loopback DHT: versions get
 * increasing sequence numbers, a second node resolves the latest one, and
 * nodes refuse an item whose signature is not the key holder's.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type DHT from 'bittorrent-dht';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createKeyFile, readKeyFile } from '../../../src/core/updatable/keys.ts';
import {
  bep46InfoHash,
  closeDht,
  mutableTarget,
  openUpdatableDht,
  publishUpdatable,
  resolveUpdatable,
} from '../../../src/core/updatable/mutable-item.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';
import { startPrivateDht, type PrivateDht } from './private-dht.ts';

cleanupTempDirs();
vi.setConfig({ testTimeout: 60_000 });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function network(): Promise<PrivateDht> {
  const dht = await startPrivateDht(4);
  cleanups.push(() => dht.close());
  return dht;
}

async function client(entry: string): Promise<DHT> {
  const dht = await openUpdatableDht({ bootstrap: [entry], host: '127.0.0.1' });
  cleanups.push(() => closeDht(dht));
  return dht;
}

describe('updatable torrents on a private DHT', () => {
  it('publishes versions with increasing seq and another node resolves the latest', async () => {
    const net = await network();
    const keyFile = path.join(tempDir('shoal-bep46-'), 'k');
    await createKeyFile(keyFile);
    const key = await readKeyFile(keyFile);
    const salt = Buffer.from('nightly');
    const publisher = await client(net.entry);
    const reader = await client(net.entry);

    expect(await resolveUpdatable(reader, key.publicKey, salt)).toBeNull();
    const first = randomBytes(20);
    const second = randomBytes(20);
    const one = await publishUpdatable(publisher, key, salt, first);
    expect(one.seq).toBe(1);
    expect(one.nodes).toBeGreaterThan(0);
    expect(await resolveUpdatable(reader, key.publicKey, salt)).toEqual({
      infoHash: first,
      seq: 1,
    });
    const two = await publishUpdatable(publisher, key, salt, second);
    expect(two.seq).toBe(2);
    expect(await resolveUpdatable(reader, key.publicKey, salt)).toEqual({
      infoHash: second,
      seq: 2,
    });
    // Another salt under the same key is another item.
    expect(await resolveUpdatable(reader, key.publicKey, Buffer.from('stable'))).toBeNull();
  });

  it('an item signed by someone else is refused by the nodes and never resolved', async () => {
    const net = await network();
    const dir = tempDir('shoal-bep46-');
    await createKeyFile(path.join(dir, 'real'));
    await createKeyFile(path.join(dir, 'forger'));
    const key = await readKeyFile(path.join(dir, 'real'));
    const forger = await readKeyFile(path.join(dir, 'forger'));
    const salt = Buffer.alloc(0);
    const publisher = await client(net.entry);
    const genuine = randomBytes(20);
    await publishUpdatable(publisher, key, salt, genuine);

    // The forger claims the real key but can only sign with its own.
    const forged = { publicKey: key.publicKey, sign: forger.sign };
    await expect(
      publishUpdatable(publisher, forged, salt, randomBytes(20), 10_000),
    ).rejects.toThrow(/DHT put failed|no DHT node/);
    const reader = await client(net.entry);
    expect(await resolveUpdatable(reader, key.publicKey, salt)).toEqual({
      infoHash: genuine,
      seq: 1,
    });
    // What the nodes hold is the genuine item.
    const target = mutableTarget(key.publicKey, salt).toString('hex');
    const stored = net.nodes.map((node) => node.toJSON().values[target]).filter(Boolean);
    expect(stored.length).toBeGreaterThan(0);
  });

  it('reads only well-formed BEP 46 values', () => {
    expect(bep46InfoHash({ ih: new Uint8Array(20) })).toHaveLength(20);
    expect(bep46InfoHash({ ih: new Uint8Array(19) })).toBeNull();
    expect(bep46InfoHash({ ih: 'x'.repeat(20) })).toBeNull();
    expect(bep46InfoHash(new Uint8Array(20))).toBeNull();
    expect(bep46InfoHash([new Uint8Array(20)])).toBeNull();
    expect(bep46InfoHash(null)).toBeNull();
  });
});
