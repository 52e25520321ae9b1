/**
 * `shoal keygen` and `shoal publish` as a user runs them: the key file is
 * private and never overwritten; publishing two builds under one key and
 * salt on a private loopback DHT prints the same magnet with sequence
 * numbers 1 and 2, and a DHT node resolves the magnet to the second build.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type DHT from 'bittorrent-dht';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  closeDht,
  openUpdatableDht,
  resolveUpdatable,
} from '../../src/core/updatable/mutable-item.ts';
import { parseUpdatableMagnet } from '../../src/core/updatable/updatable-magnet.ts';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { freePort } from '../helpers/ports.ts';
import { createTorrent } from '../helpers/swarm.ts';
import { startPrivateDht, type PrivateDht } from '../core/updatable/private-dht.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 90_000, hookTimeout: 30_000 });

interface Published {
  magnet: string;
  publicKey: string;
  salt: string;
  infoHash: string;
  seq: number;
  nodes: number;
}

describe('shoal keygen', () => {
  it('writes a private key readable by its owner only and prints the public key', async () => {
    const dir = tempDir('shoal-keygen-');
    const keyFile = path.join(dir, 'publisher.key');
    const result = await runShoal(['keygen', '-o', keyFile]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    expect(result.stderr).toContain('keep it secret');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

    const json = await runShoal(['keygen', '-o', path.join(dir, 'second.key'), '--json']);
    expect(json.code, show(json)).toBe(0);
    const doc = JSON.parse(json.stdout) as { publicKey: string; keyFile: string };
    expect(doc.keyFile).toBe(path.join(dir, 'second.key'));
    expect(doc.publicKey).not.toBe(result.stdout.trim());
  });

  it('refuses to overwrite an existing file (exit 2, one line, file untouched)', async () => {
    const keyFile = path.join(tempDir('shoal-keygen-'), 'publisher.key');
    await writeFile(keyFile, 'keep me');
    const result = await runShoal(['keygen', '-o', keyFile]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toBe(
      `shoal: error: ${keyFile} already exists: shoal never overwrites a key file\n`,
    );
    expect(await readFile(keyFile, 'utf8')).toBe('keep me');
  });
});

describe('shoal publish', () => {
  let net: PrivateDht;
  let reader: DHT;
  let work: string;
  let keyFile: string;
  let publicKey: string;

  beforeAll(async () => {
    net = await startPrivateDht(4);
    reader = await openUpdatableDht({ bootstrap: [net.entry], host: '127.0.0.1' });
    work = tempDir('shoal-publish-');
    keyFile = path.join(work, 'publisher.key');
    const made = await runShoal(['keygen', '-o', keyFile]);
    expect(made.code, show(made)).toBe(0);
    publicKey = made.stdout.trim();
  });

  afterAll(async () => {
    if (reader) await closeDht(reader);
    await net?.close();
  });

  async function build(name: string, content: string, extra: string[] = []) {
    const file = path.join(work, name);
    await writeFile(file, content);
    return createTorrent(file, path.join(work, `${name}.torrent`), extra);
  }

  async function publish(torrent: string, extra: string[] = []): Promise<Published> {
    const result = await runShoal(
      ['publish', '--key', keyFile, '--salt', 'nightly', torrent, '--dht-bootstrap', net.entry],
      { timeoutMs: 60_000 },
    );
    expect(result.code, show(result)).toBe(0);
    const magnet = result.stdout.trim();
    const json = await runShoal(
      [
        'publish',
        '--key',
        keyFile,
        '--salt',
        'nightly',
        torrent,
        '--dht-bootstrap',
        net.entry,
        '--json',
        ...extra,
      ],
      { timeoutMs: 60_000 },
    );
    expect(json.code, show(json)).toBe(0);
    const doc = JSON.parse(json.stdout) as Published;
    expect(doc.magnet).toBe(magnet);
    return doc;
  }

  it('publishes builds under one magnet with increasing seq; the DHT resolves the latest', async () => {
    const first = await build('build-1.bin', 'first build\n');
    const second = await build('build-2.bin', 'second build\n');
    const one = await publish(first.torrent);
    expect(one.magnet).toBe(
      `magnet:?xs=urn:btpk:${publicKey}&s=${Buffer.from('nightly').toString('hex')}`,
    );
    expect(one.infoHash).toBe(first.infoHash);
    expect(one.nodes).toBeGreaterThan(0);
    // The plain run published version 1 (a republish of the same torrent), --json version 2.
    expect(one.seq).toBe(2);

    const two = await publish(second.torrent);
    expect(two.magnet).toBe(one.magnet);
    expect(two.seq).toBe(4);
    expect(two.infoHash).toBe(second.infoHash);

    const { publicKey: key, salt } = parseUpdatableMagnet(two.magnet);
    const latest = await resolveUpdatable(reader, key, salt);
    expect(latest).toEqual({ infoHash: Buffer.from(second.infoHash!, 'hex'), seq: 4 });
  });

  it('refuses bad input in one line with the documented exit code', async () => {
    const v1 = await build('ok.bin', 'ok\n');
    const v2 = await build('v2.bin', 'v2 only\n', ['--v2']);
    const longSalt = 'x'.repeat(65);
    const cases: [string[], number, string][] = [
      [['--key', keyFile, '--salt', longSalt, v1.torrent], 2, 'BEP 44 allows at most 64'],
      [['--key', path.join(work, 'nope.key'), v1.torrent], 3, 'no such key file'],
      [['--key', v1.torrent, v1.torrent], 3, 'is not a private key file'],
      [['--key', keyFile, v2.torrent], 3, 'is v2-only'],
      [['--key', keyFile, path.join(work, 'missing.torrent')], 3, 'no such file'],
    ];
    for (const [args, code, message] of cases) {
      const result = await runShoal(['publish', ...args, '--dht-bootstrap', net.entry]);
      expect(result.code, show(result)).toBe(code);
      expect(result.stderr).toContain(message);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).toBe('');
    }
  });

  it('says so when no DHT node can be reached (exit 4)', async () => {
    const made = await build('alone.bin', 'alone\n');
    // A port where nothing answers: the DHT of this run has no node at all.
    const entry = `127.0.0.1:${await freePort({ udp: true })}`;
    const result = await runShoal(
      ['publish', '--key', keyFile, made.torrent, '--dht-bootstrap', entry],
      { timeoutMs: 60_000 },
    );
    expect(result.code, show(result)).toBe(4);
    expect(result.stderr).toContain('could not join the DHT');
  });
});
