/**
 * The resume state on disk: what each operation writes is read back from the
 * files (never taken on trust from a resolved promise), and every wait is on
 * the operation itself (record() resolves once its record reached the OS).
 * The secret lives in a temporary XDG_STATE_HOME, never the real home.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHmac, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ResumeStore,
  decodeSnapshot,
  encodeSnapshot,
} from '../../../src/core/resume/resume-store.ts';
import { resumeKeyPath } from '../../../src/core/resume/resume-key.ts';

const identity = { infoHash: new Uint8Array(20).fill(7), pieceCount: 100, pieceLength: 16384 };
const HEADER = 36;
const RECORD = 28;

let stateHome: string;
beforeAll(() => {
  // Before the first use of the key in this worker: it is read once per thread.
  stateHome = mkdtempSync(join(tmpdir(), 'shoal-state-'));
  process.env.XDG_STATE_HOME = stateHome;
});

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
    // Each record has reached the OS when its promise resolves; then "kill -9" (no close).
    await store.record(5, 55n);
    await store.record(9, 99n);
    expect(readFileSync(store.journalPath).length).toBe(HEADER + 2 * RECORD);
    expect(decodeSnapshot(readFileSync(store.snapshotPath), identity)).toEqual(new Map([[1, 11n]]));
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
    await Promise.all([starting, stopping]);
    expect(existsSync(store.journalPath)).toBe(false);
    expect(existsSync(`${store.snapshotPath}.tmp`)).toBe(false);
    expect(decodeSnapshot(readFileSync(store.snapshotPath), identity)).toEqual(
      new Map([
        [2, 22n],
        [6, 66n],
      ]),
    );
  });

  it('a stop that arrives while the lock is being taken still leaves the folder unlocked', async () => {
    // The daemon removes a torrent right after adding it: unlock() runs before lock() resolves.
    // Its removal of the empty .shoal/ once raced the lock's temp file there (ENOENT, seen in
    // CI): many rounds, with the unlock a turn or two later each time, to meet that window.
    for (let round = 0; round < 200; round++) {
      const first = new ResumeStore(dir, identity);
      const locking = first.lock();
      for (let turn = 0; turn < round % 3; turn++) await Promise.resolve();
      await first.unlock();
      await locking;
      const again = new ResumeStore(dir, identity);
      await again.lock();
      await again.unlock();
    }
  });

  it('ignores a torn last journal record', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map());
    await store.record(3, 33n);
    await store.record(4, 44n);
    const bytes = readFileSync(store.journalPath);
    expect(bytes.length).toBe(HEADER + 2 * RECORD);
    writeFileSync(store.journalPath, bytes.subarray(0, bytes.length - 5));
    expect(await new ResumeStore(dir, identity).load()).toEqual(new Map([[3, 33n]]));
    await store.remove();
  });

  it('folds the journal into the snapshot on close', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map());
    await store.record(2, 22n);
    await store.close(new Map([[2, 22n]]));
    expect(existsSync(store.journalPath)).toBe(false);
    expect(decodeSnapshot(readFileSync(store.snapshotPath), identity)).toEqual(new Map([[2, 22n]]));
  });

  it('removes every file, and the empty .shoal, when the download is complete', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map([[1, 1n]]));
    await store.record(2, 2n);
    await store.remove();
    expect(existsSync(join(dir, '.shoal'))).toBe(false);
  });

  it('keeps its files private: .shoal 0700, snapshot and journal 0600', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map([[1, 1n]]));
    expect(statSync(join(dir, '.shoal')).mode & 0o777).toBe(0o700);
    expect(statSync(store.snapshotPath).mode & 0o777).toBe(0o600);
    expect(statSync(store.journalPath).mode & 0o777).toBe(0o600);
    await store.remove();
  });

  it('rejects state for another torrent, a corrupt snapshot and a stale piece count', async () => {
    const store = new ResumeStore(dir, identity);
    await store.close(new Map([[1, 1n]]));
    const bytes = readFileSync(store.snapshotPath);
    expect(decodeSnapshot(bytes, { ...identity, infoHash: new Uint8Array(20).fill(8) })).toBeNull();
    expect(decodeSnapshot(bytes, { ...identity, pieceCount: 99 })).toBeNull();
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 40] ^= 1;
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

  it('writes the records of pieces verified while a journal write is busy in one write', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map());
    const writes = await watchWrites();
    try {
      // Pieces verified in one turn of the event loop (hash results arrive in bursts).
      const recorded = Array.from({ length: 50 }, (_, i) => store.record(i, BigInt(i) * 7n));
      await Promise.all(recorded);
      expect(writes.filter((file) => file === store.journalPath)).toHaveLength(1);
    } finally {
      vi.restoreAllMocks();
    }
    expect(readFileSync(store.journalPath).length).toBe(HEADER + 50 * RECORD);
    const claimed = await new ResumeStore(dir, identity).load();
    expect(claimed).toEqual(new Map(Array.from({ length: 50 }, (_, i) => [i, BigInt(i) * 7n])));
    await store.remove();
  });

  it('never lets a record overtake the piece layers queued before it', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map());
    const writes = await watchWrites();
    try {
      const first = store.record(1, 11n);
      const layers = store.savePieceLayers(new Map([['ab'.repeat(32), new Uint8Array(32)]]));
      const second = store.record(2, 22n);
      await Promise.all([first, layers, second]);
      expect(writes.map((file) => file.replace(/\.tmp$/, ''))).toEqual([
        store.journalPath,
        store.layersPath,
        store.journalPath,
      ]);
    } finally {
      vi.restoreAllMocks();
    }
    await store.remove();
  });
});

describe('resume state is bound to the per-user key (#15 item 5)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-resume-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A well-formed snapshot claiming `claimed`, authenticated under `key` (not the user's). */
  function forgedSnapshot(claimed: Map<number, bigint>, key: Buffer): Buffer {
    const good = encodeSnapshot(claimed, identity);
    const body = good.subarray(0, good.length - 32);
    return Buffer.concat([body, createHmac('sha256', key).update(body).digest()]);
  }

  it('keeps the key outside OUT, in XDG_STATE_HOME, readable by the user only', async () => {
    await new ResumeStore(dir, identity).reset(new Map());
    const key = resumeKeyPath();
    expect(key).toBe(join(stateHome, 'shoal', 'resume.key'));
    expect(statSync(key).size).toBe(32);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateHome, 'shoal')).mode & 0o777).toBe(0o700);
  });

  it('ignores a snapshot authenticated under any other key', async () => {
    const store = new ResumeStore(dir, identity);
    await store.close(new Map([[1, 1n]]));
    writeFileSync(store.snapshotPath, forgedSnapshot(new Map([[1, 1n]]), randomBytes(32)));
    expect(await new ResumeStore(dir, identity).load()).toBeNull();
  });

  it('ignores a snapshot whose fingerprints were changed', async () => {
    const store = new ResumeStore(dir, identity);
    await store.close(new Map([[1, 1n]]));
    const bytes = readFileSync(store.snapshotPath);
    bytes.writeBigUInt64LE(12345n, HEADER + 4 + 4); // the fingerprint of piece 1
    writeFileSync(store.snapshotPath, bytes);
    expect(await new ResumeStore(dir, identity).load()).toBeNull();
  });

  it('stops replaying the journal at a record it did not write', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map());
    await store.record(3, 33n);
    const forged = Buffer.alloc(RECORD);
    forged.writeUInt32LE(4, 0);
    forged.writeBigUInt64LE(44n, 4);
    const bytes = Buffer.concat([readFileSync(store.journalPath), forged]);
    writeFileSync(store.journalPath, bytes);
    expect(await new ResumeStore(dir, identity).load()).toEqual(new Map([[3, 33n]]));
    await store.remove();
  });
});

describe('ResumeStore on a disk that fills up', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'shoal-resume-'));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  // A state that claims fewer pieces than the disk holds would be trusted by the next run,
  // which would then fetch the rest again: without any state it checks them all by SHA-1.
  it('drops its state when a journal record cannot be written', async () => {
    const store = new ResumeStore(dir, identity);
    await store.reset(new Map([[1, 11n]]));
    await failWritesTo((path) => path.endsWith('.journal'));
    await store.record(2, 22n);
    expect(store.error?.message).toMatch(/ENOSPC/);
    expect(existsSync(store.snapshotPath)).toBe(false);
    expect(existsSync(store.journalPath)).toBe(false);
    expect(await new ResumeStore(dir, identity).load()).toBeNull();
  });

  it('drops the fresh snapshot when the journal after it cannot be started', async () => {
    const store = new ResumeStore(dir, identity);
    await failWritesTo((path) => path.endsWith('.journal'));
    await expect(store.reset(new Map([[1, 11n]]))).rejects.toThrow(/ENOSPC/);
    expect(existsSync(store.snapshotPath)).toBe(false);
    expect(await new ResumeStore(dir, identity).load()).toBeNull();
  });
});

/** Every later write through a FileHandle to a file `matches` names fails with ENOSPC. */
async function failWritesTo(matches: (path: string) => boolean): Promise<void> {
  const probe = await open(tmpdir(), 'r');
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const original = prototype.write as (...args: unknown[]) => ReturnType<FileHandle['write']>;
  vi.spyOn(prototype, 'write').mockImplementation(function (this: FileHandle, ...args: unknown[]) {
    if (!matches(readlinkSync(`/proc/self/fd/${this.fd}`))) return original.apply(this, args);
    return Promise.reject(
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
    );
  } as FileHandle['write']);
}

/** The path of every file written through a FileHandle from now on, in order. */
async function watchWrites(): Promise<string[]> {
  const probe = await open(tmpdir(), 'r');
  const prototype = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  const original = prototype.write as (...args: unknown[]) => ReturnType<FileHandle['write']>;
  const files: string[] = [];
  vi.spyOn(prototype, 'write').mockImplementation(function (this: FileHandle, ...args: unknown[]) {
    files.push(readlinkSync(`/proc/self/fd/${this.fd}`));
    return original.apply(this, args);
  } as FileHandle['write']);
  return files;
}
