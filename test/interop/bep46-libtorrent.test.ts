/**
 * BEP 46 against python3-libtorrent: `shoal publish` stores a signed mutable
 * item on a private DHT of libtorrent nodes (libtorrent checks the signature
 * before storing a put), and libtorrent's dht_get_mutable_item with the public
 * key and salt reads it back: the info-hash shoal published, at the latest
 * sequence number, with a signature libtorrent verified (it drops items that
 * fail) and that the reader script checks again itself. A forged version 3
 * (signed by another key) is refused by every libtorrent node.
 */
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { fileURLToPath } from 'node:url';
import { createKeyFile, readKeyFile } from '../../src/core/updatable/keys.ts';
import {
  closeDht,
  openUpdatableDht,
  publishUpdatable,
} from '../../src/core/updatable/mutable-item.ts';
import { runShoal, show, spawnTracked, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';
import { createTorrent } from '../helpers/swarm.ts';
import { describeAll, startLtDht } from './libtorrent-swarm.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });
requirePeers('libtorrent');

const reader = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bep46_get_item.py');

describe('BEP 46 interop with python3-libtorrent', () => {
  let work: string;
  let keyFile: string;
  let publicKey: string;

  beforeAll(async () => {
    work = tempDir('shoal-bep46-lt-');
    keyFile = path.join(work, 'publisher.key');
    const made = await runShoal(['keygen', '-o', keyFile]);
    expect(made.code, show(made)).toBe(0);
    publicKey = made.stdout.trim();
  });

  async function build(name: string) {
    const file = path.join(work, name);
    await writeFile(file, `${name}\n`);
    const made = await createTorrent(file, path.join(work, `${name}.torrent`));
    return { torrent: made.torrent, infoHash: made.infoHash! };
  }

  it("libtorrent's dht_get_mutable_item reads what shoal published, latest version, signature verified", async () => {
    const dht = await startLtDht();
    const salt = 'nightly';
    const saltHex = Buffer.from(salt).toString('hex');
    const published: { seq: number; infoHash: string }[] = [];
    for (const name of ['build-1.bin', 'build-2.bin']) {
      const { torrent, infoHash } = await build(name);
      const result = await runShoal(
        [
          'publish',
          '--key',
          keyFile,
          '--salt',
          salt,
          torrent,
          '--dht-bootstrap',
          dht.entry,
          '--json',
        ],
        { timeoutMs: 90_000 },
      );
      expect(result.code, `${show(result)}\n${describeAll(...dht.nodes)}`).toBe(0);
      const doc = JSON.parse(result.stdout) as { seq: number; infoHash: string; nodes: number };
      expect(doc.infoHash).toBe(infoHash);
      // Storing nodes are libtorrent's only: each accepted shoal's signature.
      expect(doc.nodes).toBeGreaterThan(0);
      published.push(doc);
    }
    expect(published.map((p) => p.seq)).toEqual([1, 2]);

    // A version 3 signed by another key but claiming the publisher's: libtorrent's nodes
    // check the signature and store nothing.
    const forgerFile = path.join(tempDir('shoal-bep46-forger-'), 'forger.key');
    await createKeyFile(forgerFile);
    const forger = await readKeyFile(forgerFile);
    const real = await readKeyFile(keyFile);
    const client = await openUpdatableDht({ bootstrap: [dht.entry], host: '127.0.0.1' });
    try {
      await expect(
        publishUpdatable(
          client,
          { publicKey: real.publicKey, sign: forger.sign },
          Buffer.from(salt),
          Buffer.alloc(20, 0xee),
          20_000,
        ),
      ).rejects.toThrow(/DHT put failed|no DHT node/);
    } finally {
      await closeDht(client);
    }

    const proc = spawnTracked(
      'libtorrent get_item',
      SYSTEM_PYTHON,
      [
        reader,
        // Any port: the reader asks the DHT; nothing needs to reach it first.
        '--port',
        '0',
        '--dht-bootstrap',
        dht.entry,
        '--key',
        publicKey,
        '--salt',
        saltHex,
        '--min-seq',
        '2',
        '--timeout',
        '60',
      ],
      { timeoutMs: 75_000 },
    );
    const result = await proc.wait(80_000);
    expect(result.code, describeAll(proc, ...dht.nodes)).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`ITEM seq=2 ih=${published[1]!.infoHash} `));
    expect(result.stdout).toContain('SIGNATURE_OK');
  });
});
