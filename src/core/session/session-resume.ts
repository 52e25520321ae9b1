/**
 * What a session knows is on disk, and what of it survives a stop: the
 * existing-data check at start-up (by fingerprint where the resume state
 * claims a piece, by SHA-1 otherwise; see verify/check-pieces.ts), the
 * journal of pieces verified since, and the snapshot written at the end.
 *
 * Rules it keeps:
 * - the folder's lock is taken before the state is read and released with
 *   the session, whatever else failed;
 * - a stop before the check finished leaves the state on disk as it was
 *   (nothing new is known, and an empty snapshot would cost a full re-check);
 * - read-only data (seeding from where it lies) has no state: we may not write there;
 * - v2 piece layers fetched from peers are saved with the state once all are
 *   in, and loaded before the check (a rerun needs no peer to verify).
 */
import { diskErrorFrom } from '../errors.ts';
import type { HashPool } from '../hashing/pool.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { ResumeStore, type ClaimedPieces } from '../resume/resume-store.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';
import { checkPieces } from '../verify/check-pieces.ts';
import { missingPieceLayers } from '../verify/expected-hashes.ts';

export interface SessionResumeOptions {
  outDir: string;
  infoHash: Uint8Array;
  pieceCount: number;
  pieceLength: number;
  readOnly?: boolean;
}

export interface ExistingDataCheck {
  meta: Metainfo;
  storage: DiskStorage;
  pool: HashPool;
  wanted: number[];
  onProgress: (done: number, total: number) => void;
}

export class SessionResume {
  /** Verified pieces with the fingerprint of their data (what the next run may trust). */
  readonly verified: ClaimedPieces = new Map();
  readonly #outDir: string;
  readonly #store: ResumeStore | null;
  /** The check has finished: from then on the state on disk is ours to update. */
  #checked = false;
  /** Cancels the check when the session stops while it runs. */
  readonly #checkAbort = new AbortController();
  /** A v2 torrent whose piece layers are being fetched: saved once they are all in. */
  #layersToSave: Metainfo | null = null;
  #locking: Promise<void> | null = null;

  constructor(options: SessionResumeOptions) {
    this.#outDir = options.outDir;
    this.#store = options.readOnly
      ? null
      : new ResumeStore(options.outDir, {
          infoHash: options.infoHash,
          pieceCount: options.pieceCount,
          pieceLength: options.pieceLength,
        });
  }

  /**
   * Takes the folder's lock (once): before the check, or before peers are
   * looked for when that starts first, so that a folder in use is refused
   * before any tracker hears of this run.
   */
  lock(): Promise<void> {
    this.#locking ??= this.#store?.lock() ?? Promise.resolve();
    return this.#locking;
  }

  /** Takes the folder's lock if not yet taken, then finds the wanted pieces already on disk. */
  async checkExisting(check: ExistingDataCheck): Promise<ClaimedPieces> {
    await this.lock();
    const claimed = (await this.#store?.load()) ?? null;
    for (const [root, layer] of (await this.#store?.loadPieceLayers(check.meta)) ?? [])
      check.meta.pieceLayers.set(root, layer);
    // Only a v2-only torrent has its layers fetched (a hybrid checks pieces by SHA-1).
    if (!check.meta.pieces && missingPieceLayers(check.meta).length > 0)
      this.#layersToSave = check.meta;
    const found = await checkPieces({
      ...check,
      claimed,
      signal: this.#checkAbort.signal,
    });
    for (const [index, print] of found) this.verified.set(index, print);
    this.#checked = true;
    return found;
  }

  /** Stops a check that is still running (its promise rejects with `reason`). */
  cancelCheck(reason: Error): void {
    this.#checkAbort.abort(reason);
  }

  /** After the check of an incomplete download: a fresh snapshot, and a journal from here on. */
  async startJournal(): Promise<void> {
    if (!this.#store) return;
    try {
      await this.#store.reset(this.verified);
    } catch (error) {
      throw diskErrorFrom(error, 'write resume state in', this.#outDir);
    }
  }

  /** A piece passed its hash check and is on disk. */
  record(index: number, print: bigint): void {
    this.verified.set(index, print);
    this.#saveFetchedLayers();
    void this.#store?.record(index, print);
  }

  /**
   * At a stop: an incomplete download keeps a fresh snapshot (the journal is
   * folded in); a complete one needs no resume state at all. A failure to
   * save is a warning: the data itself is safe, only the next check is longer.
   */
  async save(complete: boolean, warn: (message: string) => void): Promise<void> {
    if (!this.#store) return;
    if (!this.#checked) return await this.#store.unlock();
    try {
      if (complete) await this.#store.remove();
      else {
        this.#saveFetchedLayers();
        await this.#store.close(this.verified);
      }
    } catch (error) {
      warn(`could not save resume state: ${(error as Error).message}`);
    }
  }

  /** Queues the layers' save (before any later record) once the last missing one came in. */
  #saveFetchedLayers(): void {
    const meta = this.#layersToSave;
    if (!meta || missingPieceLayers(meta).length > 0) return;
    this.#layersToSave = null;
    void this.#store?.savePieceLayers(meta.pieceLayers);
  }

  /** Releases the folder's lock (a no-op when saving or removing the state released it). */
  async release(): Promise<void> {
    await this.#store?.unlock();
  }
}
