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
 *   partfile does).
 * - Every path is checked to lie inside the output directory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { makeDirectory } from './make-directory.ts';
import { diskErrorFrom } from '../errors.ts';
import { PieceLayout } from './layout.ts';
import type { TorrentFile } from '../metainfo/types.ts';

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
  /** Most file handles kept open at once. */
  maxOpenFiles?: number;
}

interface PooledHandle {
  key: string;
  handle: Promise<FileHandle>;
  users: number;
}

export interface StorageInput {
  pieceLength: number;
  pieceCount: number;
  spaceSize: number;
  files: readonly TorrentFile[];
  /** Used to name the parts file. */
  infoHashHex: string;
}

export class DiskStorage {
  readonly layout: PieceLayout;
  readonly outDir: string;
  readonly partsPath: string;
  readonly #files: readonly TorrentFile[];
  readonly #paths: string[];
  readonly #selected: readonly boolean[];
  readonly #readOnly: boolean;
  readonly #maxOpen: number;
  /** Open handles in least-recently-used order (Map keeps insertion order). */
  readonly #handles = new Map<string, PooledHandle>();
  readonly #createdDirs = new Set<string>();

  constructor(input: StorageInput, options: DiskStorageOptions) {
    this.layout = new PieceLayout(input);
    this.outDir = resolve(options.outDir);
    this.#files = input.files;
    this.#selected = options.selected ?? input.files.map(() => true);
    this.#readOnly = options.readOnly ?? false;
    this.#maxOpen = options.maxOpenFiles ?? 64;
    this.partsPath = this.#inside(join(this.outDir, '.shoal', `${input.infoHashHex}.parts`));
    this.#paths = input.files.map((file) => this.#inside(join(this.outDir, ...file.path)));
  }

  /** Absolute path of file `index`. */
  filePath(index: number): string {
    return this.#paths[index];
  }

  isSelected(fileIndex: number): boolean {
    return this.#selected[fileIndex] ?? false;
  }

  /** Where each byte of `length` bytes from `begin` in piece `index` lives, in order. */
  sources(index: number, begin = 0, length?: number): ByteSource[] {
    return this.layout.fileSpans(index, begin, length).map((span) => {
      if (span.kind !== 'data') return { path: null, position: 0, length: span.length };
      if (this.isSelected(span.fileIndex)) {
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

  /** Writes a verified piece (or a block range of it) to its files. */
  async write(index: number, begin: number, data: Uint8Array): Promise<void> {
    let at = 0;
    for (const source of this.sources(index, begin, data.length)) {
      if (source.path !== null) {
        const chunk = data.subarray(at, at + source.length);
        const path = source.path;
        await this.#withHandle(path, true, async (handle) => {
          try {
            let written = 0;
            while (written < chunk.length) {
              const { bytesWritten } = await handle.write(
                chunk,
                written,
                chunk.length - written,
                source.position + written,
              );
              written += bytesWritten;
            }
          } catch (error) {
            throw diskErrorFrom(error, 'write', path);
          }
        });
      }
      at += source.length;
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
        const complete = await this.#withHandle(path, false, async (handle) => {
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
   * Makes the selected files exist with their final sizes: creates empty
   * files (no piece ever touches them) and extends files whose last bytes
   * were all zeros in padding-free layouts. Never shrinks a file.
   */
  async finish(): Promise<void> {
    // Read-only data (seeding) is complete by definition: nothing to create or extend.
    if (this.#readOnly) return;
    for (let i = 0; i < this.#files.length; i++) {
      const file = this.#files[i];
      if (file.padding || !this.isSelected(i)) continue;
      const path = this.#paths[i];
      await this.#withHandle(path, true, async (handle) => {
        try {
          const { size } = await handle.stat();
          if (size < file.length) await handle.truncate(file.length);
        } catch (error) {
          throw diskErrorFrom(error, 'resize', path);
        }
      });
    }
    await this.flush();
  }

  /** fsyncs every open file so verified data survives a crash. */
  async flush(): Promise<void> {
    for (const { key, handle } of this.#handles.values()) {
      const path = key.slice(2);
      try {
        await (await handle).datasync();
      } catch (error) {
        // A read-only handle may refuse datasync on some systems; nothing to flush there.
        if (
          (error as NodeJS.ErrnoException).code !== 'EBADF' &&
          (error as NodeJS.ErrnoException).code !== 'EINVAL'
        ) {
          throw diskErrorFrom(error, 'flush', path);
        }
      }
    }
  }

  async close(): Promise<void> {
    const pending = [...this.#handles.values()];
    this.#handles.clear();
    await Promise.allSettled(pending.map(async (entry) => (await entry.handle).close()));
  }

  /**
   * Runs `use` with a pooled handle. Writable handles create the file (and its
   * directories) when missing. A handle in use is never evicted, so a
   * concurrent read or write can never see it closed under it.
   */
  async #withHandle<T>(
    path: string,
    forWrite: boolean,
    use: (handle: FileHandle) => Promise<T>,
  ): Promise<T> {
    const writable = forWrite && !this.#readOnly;
    const key = `${writable ? 'w' : 'r'}:${path}`;
    let entry = this.#handles.get(key) ?? (writable ? undefined : this.#handles.get(`w:${path}`));
    if (entry) {
      // Re-insert: Map order is the least-recently-used order.
      this.#handles.delete(entry.key);
      this.#handles.set(entry.key, entry);
    } else {
      entry = { key, handle: this.#open(path, writable), users: 0 };
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

  async #open(path: string, forWrite: boolean): Promise<FileHandle> {
    try {
      if (!forWrite) return await open(path, 'r');
      const dir = dirname(path);
      if (!this.#createdDirs.has(dir)) {
        await makeDirectory(dir);
        this.#createdDirs.add(dir);
      }
      return await open(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    } catch (error) {
      if (!forWrite && (error as NodeJS.ErrnoException).code === 'ENOENT') throw error;
      throw diskErrorFrom(error, forWrite ? 'open for writing' : 'open', path);
    }
  }

  #inside(path: string): string {
    const absolute = resolve(path);
    if (absolute !== this.outDir && !absolute.startsWith(this.outDir + sep)) {
      throw new Error(`refusing a path outside the output directory: ${absolute}`);
    }
    return absolute;
  }
}
