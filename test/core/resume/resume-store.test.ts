import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ResumeStore,
  decodeSnapshot,
  encodeSnapshot,
} from '../../../src/core/resume/resume-store.ts';

const identity = { infoHash: new Uint8Array(20).fill(7), pieceCount: 100, pieceLength: 16384 };

describe('ResumeStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-resume-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has nothing to offer before any state was written', async () => {
    expect(await new ResumeStore(dir, identity).load()).toBeNull();
  });

  it('keeps the snapshot and every journal record across a crash (no close)', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map([[1, 11n]]));
    store.record(5, 55n);
    store.record(9, 99n);
    // Simulate kill -9: no close(); a new process loads what reached the OS.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const claimed = await new ResumeStore(dir, identity).load();
    expect(claimed).toEqual(
      new Map([
        [1, 11n],
        [5, 55n],
        [9, 99n],
      ]),
    );
    await store.remove(); // the "crashed" process's open journal, closed for the test runner's sake
  });

  it('lets a stop that arrives during the start-up snapshot finish cleanly after it', async () => {
    const store = new ResumeStore(dir, identity);
    const verified = new Map([[2, 22n]]);
    // Not awaited: Ctrl-C during the check, while the first snapshot is being written.
    const starting = store.reset(verified);
    verified.set(6, 66n);
    const stopping = store.close(verified);
    await expect(Promise.all([starting, stopping])).resolves.toBeDefined();
    expect(existsSync(store.journalPath)).toBe(false);
    expect(existsSync(`${store.snapshotPath}.tmp`)).toBe(false);
    expect(await new ResumeStore(dir, identity).load()).toEqual(
      new Map([
        [2, 22n],
        [6, 66n],
      ]),
    );
  });

  it('ignores a torn last journal record', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map());
    store.record(3, 33n);
    store.record(4, 44n);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const bytes = readFileSync(store.journalPath);
    writeFileSync(store.journalPath, bytes.subarray(0, bytes.length - 5));
    expect(await new ResumeStore(dir, identity).load()).toEqual(new Map([[3, 33n]]));
    await store.remove();
  });

  it('folds the journal into the snapshot on close', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map());
    store.record(2, 22n);
    await store.close(new Map([[2, 22n]]));
    expect(existsSync(store.journalPath)).toBe(false);
    expect(await new ResumeStore(dir, identity).load()).toEqual(new Map([[2, 22n]]));
  });

  it('rejects state for another torrent, a corrupt snapshot and a stale piece count', async () => {
    const store = new ResumeStore(dir, identity);
    await store.close(new Map([[1, 1n]]));
    const bytes = readFileSync(store.snapshotPath);
    expect(decodeSnapshot(bytes, { ...identity, infoHash: new Uint8Array(20).fill(8) })).toBeNull();
    expect(decodeSnapshot(bytes, { ...identity, pieceCount: 99 })).toBeNull();
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 12] ^= 1;
    expect(decodeSnapshot(flipped, identity)).toBeNull();
    expect(decodeSnapshot(bytes.subarray(0, 10), identity)).toBeNull();
    writeFileSync(store.snapshotPath, 'garbage');
    expect(await new ResumeStore(dir, identity).load()).toBeNull();
  });

  it('round-trips snapshots', () => {
    const claimed = new Map([
      [0, 0n],
      [99, 2n ** 64n - 1n],
    ]);
    expect(decodeSnapshot(encodeSnapshot(claimed, identity), identity)).toEqual(claimed);
  });
});
