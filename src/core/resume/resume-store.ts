/**
 * Crash-safe resume state for one download, kept in the output directory:
 *
 * - `.shoal/<info-hash>.resume`: a snapshot, written atomically (temp file,
 *   fsync, rename) at start and at a clean stop: the pieces verified so far,
 *   each with a fast fingerprint of its data.
 * - `.shoal/<info-hash>.journal`: one small record per piece verified since
 *   the snapshot. A record is written as soon as the previous write is done;
 *   records that come in meanwhile go out together in one write (a 300 MiB
 *   download verifies ~1 200 pieces, often several in one turn), so `kill -9`
 *   loses at most the records of the write in flight and those waiting for it,
 *   as with one write each, and a torn record is detected and ignored.
 * - `.shoal/<info-hash>.layers`: v2 piece layers fetched from peers (BEP 52),
 *   written once they are all in (piece-layer-state.ts), so a rerun verifies
 *   without asking peers for them again.
 *
 * On restart the claimed pieces are checked by fingerprint instead of SHA-1
 * (an order of magnitude cheaper); anything that does not match is checked by
 * SHA-1 after all. A file that is corrupt, truncated, or for another torrent
 * is ignored (full check): the resume state is a hint, never trusted blindly.
 *
 * `.shoal/` is a private directory (out-dir.ts: real, owned by the user, mode
 * 0700) and no file in it is opened through a symlink: a link planted there
 * is refused (exit 5) instead of being read, truncated or written through.
 *
 * Fingerprints are xxh64 (@node-rs/xxhash): on this project's machines its
 * xxh3 binding measured 2.1 GB/s against xxh64's 17 GB/s (BENCHMARKS.md).
 *
 * Nothing here is trusted on the strength of write access to OUT: the
 * fingerprints are keyed (xxh64 seeded with a per-user secret), and the
 * snapshot and each journal record carry an HMAC-SHA256 under a secret kept
 * outside OUT (resume-key.ts). A forged or replayed-from-elsewhere file fails
 * the MAC and is ignored, so every piece is checked by SHA-1.
 */
import { constants } from 'node:fs';
import { rename, rm, rmdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import { HmacSha256 } from './hmac-sha256.ts';
import { resumeSecrets } from './resume-key.ts';
import { acquireLock, type HeldLock } from '../lock/process-lock.ts';
import { OutDir } from '../storage/out-dir.ts';
import { DiskError } from '../errors.ts';
import { STATE_DIR_NAME } from '../metainfo/sanitize-path.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { decodePieceLayers, encodePieceLayers } from './piece-layer-state.ts';

// Version 2: MACs instead of xxh64 checksums. Version-1 files are ignored (a full check).
const SNAPSHOT_MAGIC = Buffer.from('SHOALRS\u0002', 'latin1');
const JOURNAL_MAGIC = Buffer.from('SHOALRJ\u0002', 'latin1');
const HEADER_SIZE = 8 + 20 + 4 + 4;
const ENTRY_SIZE = 12;
const SNAPSHOT_MAC_SIZE = 32;
/** A journal record's MAC is truncated: 128 bits is plenty against forgery. */
const RECORD_MAC_SIZE = 16;
const RECORD_BODY_SIZE = 12;
const RECORD_SIZE = RECORD_BODY_SIZE + RECORD_MAC_SIZE;

let macer: HmacSha256 | null = null;

/** HMAC-SHA256 of the parts, under the per-user resume secret. */
function mac(...parts: Uint8Array[]): Buffer {
  macer ??= new HmacSha256(resumeSecrets().macKey);
  return macer.digest(...parts);
}

export interface ResumeIdentity {
  /** The 20-byte wire info-hash. */
  infoHash: Uint8Array;
  pieceCount: number;
  pieceLength: number;
}

/** Piece index -> fingerprint of its verified data. */
export type ClaimedPieces = Map<number, bigint>;

export class ResumeStore {
  readonly snapshotPath: string;
  readonly journalPath: string;
  readonly lockPath: string;
  readonly layersPath: string;
  readonly #identity: ResumeIdentity;
  readonly #out: OutDir;
  readonly #stateDir: string;
  #journal: FileHandle | null = null;
  #lock: HeldLock | null = null;
  /** The last lock() call, which a release waits for. */
  #locking: Promise<void> | null = null;
  /**
   * Every operation (appends, snapshots, removal) runs one after another on
   * this chain: records never interleave, and a stop that arrives while the
   * start-up snapshot is being written waits for it instead of racing it for
   * the same temp file.
   */
  #queue: Promise<void> = Promise.resolve();
  #failed: Error | null = null;
  /** Set by close() and remove(): later resets and records are ignored. */
  #finished = false;
  /**
   * The queued journal write that records join until it starts; sealed (null)
   * also when anything else is queued after it, so a record never overtakes
   * what was queued before it (the piece layers reach the disk before the
   * records that follow them).
   */
  #openBatch: { records: Buffer[]; written: Promise<void> } | null = null;
  /** The journal header, which every record's MAC covers. */
  readonly #journalHeader: Buffer;

  constructor(outDir: string, identity: ResumeIdentity) {
    this.#out = new OutDir(outDir);
    this.#stateDir = join(this.#out.root, STATE_DIR_NAME);
    const base = join(this.#stateDir, Buffer.from(identity.infoHash).toString('hex'));
    this.snapshotPath = `${base}.resume`;
    this.journalPath = `${base}.journal`;
    this.lockPath = `${base}.lock`;
    this.layersPath = `${base}.layers`;
    this.#identity = identity;
    this.#journalHeader = journalHeader(identity);
  }

  /**
   * Takes the lock on this torrent's state in this folder, so a second shoal
   * downloading the same torrent into it refuses to start (exit 2) instead of
   * racing this one on the journal and snapshot. Released by close(),
   * remove() and unlock(); a lock left by `kill -9` is taken over
   * (lock/process-lock.ts).
   */
  lock(): Promise<void> {
    const locking = (async () => {
      this.#out.makePrivateDirectory(this.#stateDir);
      const lock = await acquireLock(
        this.lockPath,
        `the download folder ${this.#out.root} (this torrent)`,
      );
      // Stopped while the lock was being taken (a torrent removed right after it was added):
      // the release waited for this, and the lock must not outlive this store.
      if (this.#finished) await lock.release();
      else this.#lock = lock;
    })();
    this.#locking = locking;
    return locking;
  }

  /** Releases the lock without touching the state (a stop before the state was read). */
  unlock(): Promise<void> {
    this.#finished = true;
    return this.#serially(() => this.#releaseLock());
  }

  /** The pieces the saved state claims, or null when there is no usable state. */
  async load(): Promise<ClaimedPieces | null> {
    const snapshot = await this.#read(this.snapshotPath);
    if (!snapshot) return null;
    const claimed = decodeSnapshot(snapshot, this.#identity);
    if (!claimed) return null;
    const journal = await this.#read(this.journalPath);
    if (journal) replayJournal(journal, this.#identity, claimed);
    return claimed;
  }

  /** Saved piece layers of `meta`'s files that it lacks and that match their pieces roots. */
  async loadPieceLayers(meta: Metainfo): Promise<Map<string, Uint8Array>> {
    const bytes = await this.#read(this.layersPath);
    return bytes ? decodePieceLayers(bytes, meta) : new Map();
  }

  /**
   * Saves the piece layers (atomically, in order with the journal: queued
   * before a record, it is on disk before that record is). Never rejects: a
   * write error only means the next run fetches the layers again.
   */
  savePieceLayers(layers: ReadonlyMap<string, Uint8Array>): Promise<void> {
    if (this.#finished) return Promise.resolve();
    const bytes = encodePieceLayers(layers);
    return this.#serially(() => this.#writeAtomically(this.layersPath, bytes)).catch(() => {});
  }

  /** Writes a fresh snapshot of `verified` and starts an empty journal. */
  reset(verified: ClaimedPieces): Promise<void> {
    return this.#serially(async () => {
      if (this.#finished) return;
      await this.#closeJournal();
      try {
        await this.#writeSnapshot(verified);
        const journal = await this.#out.open(
          this.journalPath,
          constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
          0o600,
        );
        this.#journal = journal;
        await journal.write(this.#journalHeader);
      } catch (error) {
        // The download goes on meanwhile (a full disk can fill before the journal starts):
        // with no journal, the snapshot must not be trusted by the next run either.
        this.#failed = error as Error;
        await this.#forgetClaims();
        throw error;
      }
    });
  }

  /**
   * Records a newly verified piece (asynchronously, in order). The promise
   * settles once the record reached the OS (or was dropped after a write
   * error, see `error`); it never rejects, so callers may ignore it.
   */
  record(index: number, print: bigint): Promise<void> {
    if (this.#finished || this.#failed) return Promise.resolve();
    const record = Buffer.alloc(RECORD_SIZE);
    record.writeUInt32LE(index, 0);
    record.writeBigUInt64LE(print, 4);
    const body = record.subarray(0, RECORD_BODY_SIZE);
    mac(this.#journalHeader, body).copy(record, RECORD_BODY_SIZE, 0, RECORD_MAC_SIZE);
    let batch = this.#openBatch;
    if (!batch) {
      const records: Buffer[] = [];
      batch = { records, written: this.#serially(() => this.#writeRecords(records)) };
      this.#openBatch = batch;
    }
    batch.records.push(record);
    return batch.written;
  }

  async #writeRecords(records: Buffer[]): Promise<void> {
    if (this.#openBatch?.records === records) this.#openBatch = null;
    const journal = this.#journal;
    if (!journal || this.#failed) return;
    try {
      await journal.write(records.length === 1 ? records[0]! : Buffer.concat(records));
    } catch (error) {
      this.#failed = error as Error;
      await this.#forgetClaims();
    }
  }

  /**
   * After a journal write failed, the snapshot and journal claim fewer pieces
   * than are on disk, and the next run would trust them and fetch the rest
   * again (a full disk fills with data before the journal's records fail).
   * Without them the next run checks every piece by SHA-1 and keeps what is
   * there; close() writes a new snapshot if it can. Removing frees space, so
   * this works on a full disk.
   */
  async #forgetClaims(): Promise<void> {
    await this.#closeJournal();
    await rm(this.journalPath, { force: true }).catch(() => {});
    await rm(this.snapshotPath, { force: true }).catch(() => {});
  }

  /** The first write error, if any (a full disk stops the journal, not the download). */
  get error(): Error | null {
    return this.#failed;
  }

  /** Final snapshot at a clean stop; the journal is folded into it and removed. */
  close(verified: ClaimedPieces): Promise<void> {
    this.#finished = true;
    return this.#serially(async () => {
      try {
        await this.#closeJournal();
        await this.#writeSnapshot(verified).catch(async (error: unknown) => {
          // The temp file is what a full disk left half-written; the old snapshot stays
          // only while the journal beside it is whole (see #forgetClaims).
          await rm(`${this.snapshotPath}.tmp`, { force: true }).catch(() => {});
          throw error;
        });
        await rm(this.journalPath, { force: true });
      } finally {
        // Even when the snapshot cannot be written (a full disk): the lock must not outlive us.
        await this.#releaseLock();
      }
    });
  }

  /** Removes the state (the download is complete and nothing needs resuming). */
  remove(): Promise<void> {
    this.#finished = true;
    return this.#serially(async () => {
      try {
        await this.#closeJournal();
        await rm(this.journalPath, { force: true });
        await rm(this.snapshotPath, { force: true });
        await rm(this.layersPath, { force: true });
      } finally {
        await this.#releaseLock();
      }
    });
  }

  async #releaseLock(): Promise<void> {
    // A lock() under way finishes first: removing the empty `.shoal/` below while it wrote
    // its temp file there made it fail (ENOENT) when a stop came right after the start.
    await this.#locking?.catch(() => {});
    const lock = this.#lock;
    this.#lock = null;
    await lock?.release();
    // Leave no empty `.shoal/` behind (it stays while it holds a parts file or other state).
    await rmdir(this.#stateDir).catch(() => {});
  }

  /** Runs `operation` after everything queued before it; its failure is the caller's. */
  #serially(operation: () => Promise<void>): Promise<void> {
    this.#openBatch = null;
    const run = this.#queue.then(operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #closeJournal(): Promise<void> {
    const journal = this.#journal;
    this.#journal = null;
    await journal?.close().catch(() => {});
  }

  /** The file's bytes; null when it is missing or unreadable. A symlink is refused (throws). */
  async #read(path: string): Promise<Buffer | null> {
    let handle: FileHandle;
    try {
      handle = await this.#out.open(path, constants.O_RDONLY);
    } catch (error) {
      if (error instanceof DiskError) throw error;
      return null;
    }
    try {
      return await handle.readFile();
    } catch {
      return null;
    } finally {
      await handle.close();
    }
  }

  #writeSnapshot(verified: ClaimedPieces): Promise<void> {
    return this.#writeAtomically(this.snapshotPath, encodeSnapshot(verified, this.#identity));
  }

  /** Temp file, fsync, rename: `path` holds either its old bytes or all of `bytes`. */
  async #writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
    this.#out.makePrivateDirectory(this.#stateDir);
    const temp = `${path}.tmp`;
    // Created exclusively: a leftover temp file (or anything planted there) is removed
    // first, never written through. rm and rename act on a link itself, not its target.
    await rm(temp, { force: true });
    const handle = await this.#out.open(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      0o600,
    );
    try {
      await handle.write(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  }
}

function header(magic: Buffer, identity: ResumeIdentity): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  magic.copy(out, 0);
  Buffer.from(identity.infoHash).copy(out, 8);
  out.writeUInt32LE(identity.pieceCount, 28);
  out.writeUInt32LE(identity.pieceLength >>> 0, 32);
  return out;
}

function journalHeader(identity: ResumeIdentity): Buffer {
  return header(JOURNAL_MAGIC, identity);
}

export function encodeSnapshot(verified: ClaimedPieces, identity: ResumeIdentity): Buffer {
  // Indexes sorted in a typed array (4 bytes a piece), not an array of [index, print]
  // pairs: at a million pieces those were ~50 MB of short-lived objects.
  const indexes = Uint32Array.from(verified.keys()).sort();
  const out = Buffer.alloc(HEADER_SIZE + 4 + indexes.length * ENTRY_SIZE + SNAPSHOT_MAC_SIZE);
  header(SNAPSHOT_MAGIC, identity).copy(out, 0);
  out.writeUInt32LE(indexes.length, HEADER_SIZE);
  let at = HEADER_SIZE + 4;
  for (const index of indexes) {
    out.writeUInt32LE(index, at);
    out.writeBigUInt64LE(verified.get(index)!, at + 4);
    at += ENTRY_SIZE;
  }
  mac(out.subarray(0, at)).copy(out, at);
  return out;
}

/** Null for anything that is not an intact snapshot of this torrent. */
export function decodeSnapshot(bytes: Buffer, identity: ResumeIdentity): ClaimedPieces | null {
  if (bytes.length < HEADER_SIZE + 4 + SNAPSHOT_MAC_SIZE) return null;
  if (!sameHeader(bytes, SNAPSHOT_MAGIC, identity)) return null;
  const count = bytes.readUInt32LE(HEADER_SIZE);
  const end = HEADER_SIZE + 4 + count * ENTRY_SIZE;
  if (count > identity.pieceCount || bytes.length !== end + SNAPSHOT_MAC_SIZE) return null;
  if (!timingSafeEqual(bytes.subarray(end), mac(bytes.subarray(0, end)))) return null;
  const claimed: ClaimedPieces = new Map();
  for (let at = HEADER_SIZE + 4; at < end; at += ENTRY_SIZE) {
    const index = bytes.readUInt32LE(at);
    if (index >= identity.pieceCount) return null;
    claimed.set(index, bytes.readBigUInt64LE(at + 4));
  }
  return claimed;
}

/** Adds the journal's intact records to `claimed`; stops at the first torn or foreign one. */
export function replayJournal(
  bytes: Buffer,
  identity: ResumeIdentity,
  claimed: ClaimedPieces,
): void {
  if (bytes.length < HEADER_SIZE || !sameHeader(bytes, JOURNAL_MAGIC, identity)) return;
  const head = bytes.subarray(0, HEADER_SIZE);
  for (let at = HEADER_SIZE; at + RECORD_SIZE <= bytes.length; at += RECORD_SIZE) {
    const body = bytes.subarray(at, at + RECORD_BODY_SIZE);
    const expected = mac(head, body).subarray(0, RECORD_MAC_SIZE);
    if (!timingSafeEqual(bytes.subarray(at + RECORD_BODY_SIZE, at + RECORD_SIZE), expected)) return;
    const index = body.readUInt32LE(0);
    if (index >= identity.pieceCount) return;
    claimed.set(index, body.readBigUInt64LE(4));
  }
}

function sameHeader(bytes: Buffer, magic: Buffer, identity: ResumeIdentity): boolean {
  return header(magic, identity).equals(bytes.subarray(0, HEADER_SIZE));
}
