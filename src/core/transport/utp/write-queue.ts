/**
 * The bytes written to a uTP connection and not yet cut into packets, with
 * the stream's backpressure: a write() is acknowledged at once while no more
 * than `limit` bytes wait, otherwise only once sending brings them back
 * under it (so a writer that honours its callbacks cannot make us hold more).
 */
export class WriteQueue {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  /** write() callbacks held back while the queue is over the limit. */
  readonly #callbacks: ((error?: Error | null) => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Queues a write; `callback` runs now, or once the queue is back under the limit. */
  push(chunk: Buffer, callback: (error?: Error | null) => void): void {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    if (this.#bytes <= this.#limit) callback();
    else this.#callbacks.push(callback);
  }

  /** Cuts the next `size` bytes (at most `bytes`) off the queue. */
  take(size: number): Buffer {
    this.#bytes -= size;
    const head = this.#chunks[0]!;
    if (head.length > size) {
      this.#chunks[0] = head.subarray(size);
      return head.subarray(0, size);
    }
    if (head.length === size) return this.#chunks.shift()!;
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const chunk = this.#chunks[0]!;
      const n = Math.min(chunk.length, size - at);
      chunk.copy(out, at, 0, n);
      at += n;
      if (n === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(n);
    }
    return out;
  }

  /** Acknowledges the writes held back, now that the queue is under the limit again. */
  releaseWriters(): void {
    while (this.#callbacks.length > 0 && this.#bytes <= this.#limit) this.#callbacks.shift()!();
  }

  /** Drops everything (the connection was destroyed): no held write is acknowledged. */
  clear(): void {
    this.#callbacks.length = 0;
    this.#chunks.length = 0;
    this.#bytes = 0;
  }
}
