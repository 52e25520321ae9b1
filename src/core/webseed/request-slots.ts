/**
 * A counting semaphore: at most `limit` HTTP requests to one server at once;
 * the rest wait their turn in order. A waiter whose signal fires leaves the
 * queue (it never takes a slot).
 */
export class RequestSlots {
  readonly limit: number;
  #busy = 0;
  readonly #waiting: { grant: () => void; abandon: (error: unknown) => void }[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`invalid slot limit ${limit}`);
    this.limit = limit;
  }

  get busy(): number {
    return this.#busy;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Resolves when a slot is held; call `release()` exactly once afterwards. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#busy < this.limit) {
      this.#busy++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        abandon: (error: unknown) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      const onAbort = (): void => {
        const at = this.#waiting.indexOf(entry);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
    });
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next)
      next.grant(); // the slot passes straight to the next waiter
    else this.#busy--;
  }

  /** Rejects every waiter with `error` (closing). */
  abandonAll(error: unknown): void {
    for (const entry of this.#waiting.splice(0)) entry.abandon(error);
  }
}
