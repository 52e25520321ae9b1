/**
 * Positional file I/O for a torrent's data: maps piece ranges onto file spans
 * (layout.ts) and reads or writes each span with one positional call.
 *
 * Invariants:
 * - Only verified pieces are written (the engine buffers a piece until its
 *   hash checks out), so every byte this class writes is good data.
 * - Padding files and v2 alignment gaps are never written; they read as zeros.
 * - Files the user did not select are never created. The bytes of a shared
 *   boundary piece that belong to them go to a sparse "parts" file under
 *   `.shoal/` in the output directory, at the piece-space offset, so the
 *   piece can still be re-verified and served later (as libtorrent's
 *   partfile does). An unselected file that already exists (it was wanted
 *   before, e.g. a complete torrent whose file is then unwanted) keeps being
 *   read and written in place, as libtorrent does: its bytes are on disk, and
 *   the parts file does not have them.
 * - Every path is checked to lie inside the output directory, and nothing
 *   below it is followed through a symlink (out-dir.ts).
 * - A file lies at its sanitized path, unless the caller says otherwise
 *   (`diskPath`) or another client left a collision-renamed file under its
 *   original name (disk-paths.ts).
 * - When the download is complete every selected file has exactly its length:
 *   shorter ones are extended, longer ones cut (bytes past the end are not
 *   the torrent's, and would make the file differ from it).
 */
import type { FileHandle } from 'node:fs/promises';
import { constants, write } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { OutDir } from './out-dir.ts';
import { DiskError, diskErrorFrom } from '../errors.ts';
import { PieceLayout } from './layout.ts';
import { DIRECT_IO_ALIGNMENT, isPageAligned } from './aligned-memory.ts';
import { STATE_DIR_NAME } from '../metainfo/sanitize-path.ts';
import { diskPaths, type StorageFile } from './disk-paths.ts';

/** Where a run of a piece's bytes lives: a concrete file and position, or zeros. */
export interface ByteSource {
  /** Absolute path, or null for zeros (padding, gaps). */
  path: string | null;
  position: number;
  length: number;
}

export interface DiskStorageOptions {
  outDir: string;
  /** Per file index: true when the user wants the file. Default: all. */
  selected?: readonly boolean[];
  /** Open files for reading only (seeding from a read-only location). */
  readOnly?: boolean;
  /** Most file handles kept open at once (default: see defaultMaxOpenFiles). */
  maxOpenFiles?: number;
  /** Write page-aligned data with direct I/O where possible (default true). */
  directIo?: boolean;
  /**
   * Follow symlinks below outDir (default false: refuse them). Only for data
   * the user pointed at directly, such as `seed PATH`.
   */
  followLinks?: boolean;
}

const FEWEST_OPEN_FILES = 64;
const MOST_OPEN_FILES = 256;

/**
 * A handle for every file of the torrent, between 64 and 256. Pieces arrive in
 * no file order, so with fewer handles than files a download closes and
 * reopens files all the way through (a 200-file download opened its files ~250
 * times with 64), and each open is a link-refusing open with its checks on the
 * main thread. The ceiling keeps a daemon's many torrents within the
 * descriptor limit.
 */
function defaultMaxOpenFiles(fileCount: number): number {
  return Math.min(MOST_OPEN_FILES, Math.max(FEWEST_OPEN_FILES, fileCount));
}

/** How a pooled handle was opened: read, write, or write with direct I/O (O_DIRECT). */
type HandleMode = 'r' | 'w' | 'd';

interface PooledHandle {
  key: string;
  handle: Promise<FileHandle>;
  users: number;
}

export interface StorageInput {
  pieceLength: number;
  pieceCount: number;
  spaceSize: number;
  /** The torrent's files; each lies at its `diskPath` when given (see disk-paths.ts). */
  files: readonly StorageFile[];
  /** Used to name the parts file. */
  infoHashHex: string;
}

export class DiskStorage {
  readonly layout: PieceLayout;
  readonly outDir: string;
  readonly partsPath: string;
  readonly #files: readonly StorageFile[];
  readonly #paths: string[];
  readonly #selected: readonly boolean[];
  /** Per unselected file index: whether it exists on disk (looked up once, on first use). */
  readonly #unselectedExists = new Map<number, boolean>();
  readonly #readOnly: boolean;
  readonly #maxOpen: number;
  /** Open handles in least-recently-used order (Map keeps insertion order). */
  readonly #handles = new Map<string, PooledHandle>();
  readonly #out: OutDir;
  /** Direct writes for page-aligned data; off once the file system refuses them. */
  #directIo: boolean;

  constructor(input: StorageInput, options: DiskStorageOptions) {
    this.layout = new PieceLayout(input);
    this.outDir = resolve(options.outDir);
    this.#out = new OutDir(this.outDir, { followLinks: options.followLinks });
    this.#files = input.files;
    this.#selected = options.selected ?? input.files.map(() => true);
    this.#readOnly = options.readOnly ?? false;
    this.#maxOpen = options.maxOpenFiles ?? defaultMaxOpenFiles(input.files.length);
    this.#directIo = (options.directIo ?? true) && constants.O_DIRECT !== undefined;
    this.partsPath = join(this.outDir, STATE_DIR_NAME, `${input.infoHashHex}.parts`);
    this.#paths = diskPaths(input.files, this.#out).map((path) => join(this.outDir, ...path));
    // Throws for any path that would leave the output directory.
    for (const path of [this.partsPath, ...this.#paths]) this.#out.parts(path);
  }

  /** Absolute path of file `index`. */
  filePath(index: number): string {
    return this.#paths[index];
  }

  /**
   * Size of the file at `path` (one of this storage's), -1 when it is missing
   * or not a regular file. Throws DiskError for a symlink inside the output
   * directory (unless followLinks).
   */
  fileSize(path: string): number {
    return this.#out.fileSize(path);
  }

  isSelected(fileIndex: number): boolean {
    return this.#selected[fileIndex] ?? false;
  }

  #existsUnselected(fileIndex: number): boolean {
    let exists = this.#unselectedExists.get(fileIndex);
    if (exists === undefined) {
      exists = this.fileSize(this.#paths[fileIndex]) >= 0;
      this.#unselectedExists.set(fileIndex, exists);
    }
    return exists;
  }

  /** Where each byte of `length` bytes from `begin` in piece `index` lives, in order. */
  sources(index: number, begin = 0, length?: number): ByteSource[] {
    return this.layout.fileSpans(index, begin, length).map((span) => {
      if (span.kind !== 'data') return { path: null, position: 0, length: span.length };
      if (this.isSelected(span.fileIndex) || this.#existsUnselected(span.fileIndex)) {
        return {
          path: this.#paths[span.fileIndex],
          position: span.fileOffset,
          length: span.length,
        };
      }
      const spaceOffset = this.#files[span.fileIndex].offset + span.fileOffset;
      return { path: this.partsPath, position: spaceOffset, length: span.length };
    });
  }

  /**
   * Writes a verified piece (or a block range of it) to its files. Data in
   * page-aligned memory (aligned-memory.ts) goes to disk with direct I/O where
   * file position and length line up with disk blocks (see #writeSpan).
   */
  async write(index: number, begin: number, data: Uint8Array): Promise<void> {
    const aligned = this.#directIo && isPageAligned(data);
    let at = 0;
    for (const source of this.sources(index, begin, data.length)) {
      if (source.path !== null) {
        await this.#writeSpan(
          source.path,
          source.position,
          data.subarray(at, at + source.length),
          aligned,
        );
      }
      at += source.length;
    }
  }

  /**
   * Direct I/O skips the page cache: the kernel moves the bytes from our
   * buffer to the device instead of first copying them into fresh cache pages
   * (on a virtual machine that copy was a third of a download's CPU time), and
   * a finished download does not push other programs' data out of the cache.
   * Only the block-aligned middle of a span goes direct; its unaligned head and
   * tail (file starts inside a piece, a file's last partial block) take the
   * ordinary path. They cover different disk blocks, so the two never overlap.
   */
  async #writeSpan(
    path: string,
    position: number,
    chunk: Uint8Array,
    aligned: boolean,
  ): Promise<void> {
    const head = aligned
      ? (DIRECT_IO_ALIGNMENT - (position % DIRECT_IO_ALIGNMENT)) % DIRECT_IO_ALIGNMENT
      : 0;
    const middle =
      aligned && head < chunk.length
        ? Math.floor((chunk.length - head) / DIRECT_IO_ALIGNMENT) * DIRECT_IO_ALIGNMENT
        : 0;
    // The middle must also start on a page of memory: true when the chunk and the file agree mod 4 KiB.
    if (middle > 0 && (chunk.byteOffset + head) % DIRECT_IO_ALIGNMENT === 0) {
      if (head > 0) await this.#writeAll(path, 'w', position, chunk.subarray(0, head));
      const direct = chunk.subarray(head, head + middle);
      if (!(await this.#writeAll(path, 'd', position + head, direct))) {
        await this.#writeAll(path, 'w', position + head, direct);
      }
      if (head + middle < chunk.length) {
        await this.#writeAll(path, 'w', position + head + middle, chunk.subarray(head + middle));
      }
      return;
    }
    await this.#writeAll(path, 'w', position, chunk);
  }

  /**
   * Writes all of `chunk` at `position` through a handle of `mode`. Returns
   * false (nothing written) when the file system refuses direct I/O; from then
   * on this storage writes through the page cache only.
   */
  async #writeAll(
    path: string,
    mode: 'w' | 'd',
    position: number,
    chunk: Uint8Array,
  ): Promise<boolean> {
    try {
      await this.#withHandle(path, mode, async (handle) => {
        let written = 0;
        while (written < chunk.length) {
          written += await writeAt(handle.fd, chunk, written, position + written);
        }
      });
      return true;
    } catch (error) {
      if (mode === 'd' && (error as NodeJS.ErrnoException).code === 'EINVAL') {
        this.#directIo = false;
        return false;
      }
      throw diskErrorFrom(error, 'write', path);
    }
  }

  /**
   * Reads `length` bytes from `begin` in piece `index`. Returns null when a
   * file is missing or shorter than the torrent says (the piece is not there).
   */
  async read(index: number, begin: number, length: number): Promise<Buffer | null> {
    // Not zero-filled first: readInto writes every byte, or the buffer is dropped.
    const out = Buffer.allocUnsafe(length);
    return (await this.readInto(index, begin, out)) ? out : null;
  }

  /**
   * Fills `target` with the bytes from `begin` in piece `index` (padding and
   * gaps as zeros). Returns false when a file is missing or too short.
   */
  async readInto(index: number, begin: number, target: Uint8Array): Promise<boolean> {
    let at = 0;
    for (const source of this.sources(index, begin, target.length)) {
      if (source.path === null) {
        target.fill(0, at, at + source.length);
      } else {
        const path = source.path;
        const start = at;
        const complete = await this.#withHandle(path, 'r', async (handle) => {
          try {
            for (let got = 0; got < source.length;) {
              const { bytesRead } = await handle.read(
                target,
                start + got,
                source.length - got,
                source.position + got,
              );
              if (bytesRead === 0) return false;
              got += bytesRead;
            }
            return true;
          } catch (error) {
            throw diskErrorFrom(error, 'read', path);
          }
        }).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return false;
          throw error;
        });
        if (!complete) return false;
      }
      at += source.length;
    }
    return true;
  }

  /**
   * Makes the selected files exist with exactly their lengths, once every
   * piece is verified: creates empty files (no piece ever touches them),
   * extends files whose last bytes were all zeros in padding-free layouts,
   * and cuts files that were longer on disk than the torrent says.
   */
  async finish(): Promise<void> {
    // Read-only data (seeding) is complete by definition: nothing to create or extend.
    if (this.#readOnly) return;
    for (let i = 0; i < this.#files.length; i++) {
      const file = this.#files[i];
      // A BEP 47 link holds no bytes: it is made by applyFileAttributes, never as a file.
      if (file.padding || file.symlinkPath || !this.isSelected(i)) continue;
      const path = this.#paths[i];
      // Nearly every file was written whole and has its length already: a (link-refusing)
      // lstat settles it without opening the file. Opening, stat-ing and closing each of a
      // 200-file torrent's files one after another took 80-180 ms at the end of every download.
      if (this.#out.fileSize(path) === file.length) continue;
      await this.#withHandle(path, 'w', async (handle) => {
        try {
          const { size } = await handle.stat();
          if (size !== file.length) await handle.truncate(file.length);
        } catch (error) {
          throw diskErrorFrom(error, 'resize', path);
        }
      });
    }
    // No fsync here: it cost 100-180 ms at the end of a 200-file download (one journal
    // commit per file) and bought little. The aligned bulk of every piece went to the
    // device with direct I/O already; a restart never trusts data it did not check (the
    // resume state's fingerprints, else SHA-1), so unsynced bytes lost to a power cut are
    // found and fetched again; and only the last 64 files' handles were ever synced.
    // libtorrent, aria2c and Transmission do not sync at completion either.
  }

  /** fsyncs every open file so verified data survives a crash (all at once: each waits on the disk). */
  async flush(): Promise<void> {
    const results = await Promise.allSettled(
      [...this.#handles.values()].map(async ({ key, handle }) => {
        try {
          await (await handle).datasync();
        } catch (error) {
          // A read-only handle may refuse datasync on some systems; nothing to flush there.
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'EBADF' && code !== 'EINVAL')
            throw diskErrorFrom(error, 'flush', key.slice(2));
        }
      }),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async close(): Promise<void> {
    const pending = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.allSettled(pending.map(async (entry) => (await entry.handle).close()));
  }

  /**
   * Runs `use` with a pooled handle: `r` reads, `w` writes (creating the file
   * and its directories when missing), `d` writes with direct I/O. A handle in
   * use is never evicted, so a concurrent read or write can never see it
   * closed under it.
   */
  async #withHandle<T>(
    path: string,
    wanted: HandleMode,
    use: (handle: FileHandle) => Promise<T>,
  ): Promise<T> {
    const mode = this.#readOnly ? 'r' : wanted;
    const key = `${mode}:${path}`;
    // Reading may borrow the write handle: it sees the same file.
    let entry =
      this.#handles.get(key) ?? (mode === 'r' ? this.#handles.get(`w:${path}`) : undefined);
    if (entry) {
      // Re-insert: Map order is the least-recently-used order.
      this.#handles.delete(entry.key);
      this.#handles.set(entry.key, entry);
    } else {
      entry = { key, handle: this.#open(path, mode), users: 0 };
      const created = entry;
      this.#handles.set(key, created);
      created.handle.catch(() => this.#handles.delete(key));
    }
    // Count ourselves in before evicting, so the entry we are about to use is never the one closed.
    entry.users++;
    this.#evict();
    try {
      return await use(await entry.handle);
    } finally {
      entry.users--;
      this.#evict();
    }
  }

  #evict(): void {
    for (const [key, entry] of this.#handles) {
      if (this.#handles.size <= this.#maxOpen) return;
      if (entry.users > 0) continue;
      this.#handles.delete(key);
      entry.handle.then((handle) => handle.close()).catch(() => {});
    }
  }

  async #open(path: string, mode: HandleMode): Promise<FileHandle> {
    try {
      if (mode === 'r') return await this.#out.open(path, constants.O_RDONLY);
      if (path === this.partsPath) this.#out.makePrivateDirectory(dirname(path));
      else this.#out.makeDirectories(dirname(path));
      const direct = mode === 'd' ? constants.O_DIRECT : 0;
      return await this.#out.open(path, constants.O_RDWR | constants.O_CREAT | direct, 0o644);
    } catch (error) {
      if (error instanceof DiskError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      // The caller handles these: a missing file is a missing piece, and EINVAL on a
      // direct open means the file system has no direct I/O.
      if ((mode === 'r' && code === 'ENOENT') || (mode === 'd' && code === 'EINVAL')) throw error;
      throw diskErrorFrom(error, mode === 'r' ? 'open' : 'open for writing', path);
    }
  }
}

/**
 * One positional write through the callback API, on the descriptor of a
 * pooled handle (in use, so never closed under it). `FileHandle.write` wraps
 * the same thread-pool request in three promises (its `fsCall`, the async
 * `write`, the binding's own), one of the per-piece costs on the main thread.
 */
function writeAt(fd: number, chunk: Uint8Array, from: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, chunk, from, chunk.length - from, position, (error, written) => {
      if (error) reject(error);
      else resolve(written);
    });
  });
}
