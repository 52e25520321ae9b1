/**
 * A small LRU cache of whole pieces read from disk for uploading: peers ask
 * for a piece 16 KiB at a time, so one positional read per piece instead of
 * one per block keeps seeding fast. Bounded by bytes; concurrent requests for
 * the same piece share one read.
 *
 * The buffers are reused. A fresh megabyte per piece served made V8 count a
 * gigabyte of outside memory per gigabyte seeded and run a full garbage
 * collection every few dozen pieces (86 of them for 1 GiB). So every `get`
 * is a lease: the buffer goes back to the free list only when its piece has
 * left the cache and every lease on it has been released (for a block handed
 * to a socket: once the socket has written it). A queued write never sees its
 * bytes change. A lease never released only means the buffer is not reused.
 */
export interface PieceLease {
  /** The piece's bytes: valid until `release()`. */
  readonly data: Buffer;
  /** Ends the lease; calling it again does nothing. */
  release(): void;
}

interface Entry {
  readonly buffer: Buffer;
  readonly size: number;
  /** The load: true when the piece was read whole. */
  loaded: Promise<boolean>;
  /** Leases plus the load while it runs. */
  users: number;
  /** Out of the cache. */
  dropped: boolean;
  /** Never to be reused: the load failed, or the buffer went back already. */
  retired: boolean;
}

export class PieceCache {
  readonly #maxBytes: number;
  readonly #pieceLength: number;
  /** In least-recently-used order (a Map keeps insertion order). */
  readonly #entries = new Map<number, Entry>();
  readonly #free: Buffer[] = [];
  #bytes = 0;

  constructor(maxBytes: number, pieceLength: number) {
    this.#maxBytes = maxBytes;
    this.#pieceLength = pieceLength;
  }

  /**
   * A lease on piece `index` (`size` bytes). On a miss `load` fills the buffer
   * it is given and returns false when the data is not there: the result is
   * then null.
   */
  async get(
    index: number,
    size: number,
    load: (target: Buffer) => Promise<boolean>,
  ): Promise<PieceLease | null> {
    const entry = this.#entries.get(index) ?? this.#start(index, size, load);
    this.#entries.delete(index);
    this.#entries.set(index, entry);
    entry.users++; // this caller's lease, counted before any await
    let found: boolean;
    try {
      found = await entry.loaded;
    } catch (error) {
      this.#release(entry);
      throw error;
    }
    if (!found) {
      this.#release(entry);
      return null;
    }
    let released = false;
    return {
      data: entry.buffer.subarray(0, entry.size),
      release: () => {
        if (released) return;
        released = true;
        this.#release(entry);
      },
    };
  }

  #start(index: number, size: number, load: (target: Buffer) => Promise<boolean>): Entry {
    const buffer = this.#free.pop() ?? Buffer.allocUnsafe(this.#pieceLength);
    const entry: Entry = {
      buffer,
      size,
      loaded: Promise.resolve(false),
      users: 1, // the load
      dropped: false,
      retired: false,
    };
    const settle = (ok: boolean) => {
      if (!ok) {
        entry.retired = true;
        this.#drop(index, entry);
      }
      this.#release(entry);
    };
    entry.loaded = load(buffer.subarray(0, size)).then(
      (found) => {
        settle(found);
        return found;
      },
      (error: unknown) => {
        settle(false);
        throw error;
      },
    );
    this.#bytes += size;
    this.#evict(); // the new entry is not listed yet, so it stays
    return entry;
  }

  #release(entry: Entry): void {
    entry.users--;
    this.#recycle(entry);
  }

  /** Returns the buffer of an unused entry that left the cache to the free list (once). */
  #recycle(entry: Entry): void {
    if (entry.users > 0 || !entry.dropped || entry.retired) return;
    entry.retired = true;
    // Keep no more spare buffers than the cache could hold.
    if ((this.#free.length + 1) * this.#pieceLength <= this.#maxBytes) {
      this.#free.push(entry.buffer);
    }
  }

  #drop(index: number, entry: Entry): void {
    if (entry.dropped) return;
    entry.dropped = true;
    if (this.#entries.get(index) === entry) this.#entries.delete(index);
    this.#bytes -= entry.size;
  }

  /** Drops least-recently-used pieces until the cache fits. */
  #evict(): void {
    for (const [index, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) return;
      this.#drop(index, entry);
      this.#recycle(entry);
    }
  }
}
