/**
 * Reads an MSE handshake's fields off a stream, awaiting bytes as they arrive,
 * with bounds on memory: it holds at most MAX_HELD bytes (then pauses the
 * stream until they are consumed), and a marker search gives up as soon as the
 * bytes it may still lie in have all arrived without it. `fail` (used for the
 * handshake's time bound) rejects whatever read is waiting.
 *
 * When the handshake is done, `release` hands back the bytes received beyond
 * it and leaves the stream paused, its listeners removed.
 *
 * A dialled TCP socket emits no 'data': its reads come through `RoutedReads`
 * (views of the shared read buffer, copied here), and after `release` they go
 * wherever the connection sends them next.
 */
import type { Duplex } from 'node:stream';
import type { RoutedReads } from '../routed-reads.ts';
import { MseError } from './errors.ts';

/** A handshake needs under 2 KiB; the rest is whatever followed it in the same reads. */
const MAX_HELD = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export class HandshakeReader {
  readonly #stream: Duplex;
  readonly #reads: RoutedReads | undefined;
  #held: Buffer = EMPTY;
  #failure: MseError | null = null;
  #wake: (() => void) | null = null;

  constructor(stream: Duplex, reads?: RoutedReads) {
    this.#stream = stream;
    this.#reads = reads;
    if (reads) reads.sendTo((chunk) => this.#onData(Buffer.from(chunk)));
    else stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('close', this.#onEnd);
    stream.on('error', this.#onError);
    stream.resume();
  }

  /** Rejects the waiting read (and every later one) with `error`. */
  fail(error: MseError): void {
    this.#failure ??= error;
    this.#wakeUp();
  }

  /** The next `length` bytes, consumed. The result is a view the caller may overwrite. */
  async read(length: number): Promise<Buffer> {
    await this.#waitFor(length);
    const bytes = this.#held.subarray(0, length);
    this.#held = this.#held.subarray(length);
    return bytes;
  }

  /** The next `length` bytes, left in place for the next read. */
  async peek(length: number): Promise<Buffer> {
    await this.#waitFor(length);
    return this.#held.subarray(0, length);
  }

  /**
   * Consumes everything up to and including `marker`, which must end within
   * the next `within` bytes; otherwise fails with `no-sync` as soon as those
   * bytes are in, without waiting for more. Returns how many bytes came before it.
   */
  async skipPast(marker: Uint8Array, within: number): Promise<number> {
    for (;;) {
      const at = this.#held.subarray(0, within).indexOf(marker);
      if (at >= 0) {
        this.#held = this.#held.subarray(at + marker.length);
        return at;
      }
      if (this.#held.length >= within) {
        throw new MseError('no-sync', `no sync marker within ${within} bytes`);
      }
      await this.#waitFor(this.#held.length + 1);
    }
  }

  /** Stops reading: removes the listeners, pauses the stream, returns the bytes not consumed. */
  release(): Buffer {
    const stream = this.#stream;
    stream.pause();
    if (this.#reads) this.#reads.sendTo(null);
    else stream.off('data', this.#onData);
    stream.off('end', this.#onEnd);
    stream.off('close', this.#onEnd);
    stream.off('error', this.#onError);
    const rest = this.#held;
    this.#held = EMPTY;
    return rest;
  }

  async #waitFor(length: number): Promise<void> {
    while (this.#held.length < length) {
      if (this.#failure) throw this.#failure;
      this.#stream.resume();
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#held = this.#held.length === 0 ? chunk : Buffer.concat([this.#held, chunk]);
    if (this.#held.length >= MAX_HELD) this.#stream.pause();
    this.#wakeUp();
  };

  readonly #onEnd = (): void => {
    this.fail(new MseError('closed', 'connection closed during the encryption handshake'));
  };

  readonly #onError = (error: Error): void => {
    this.fail(
      new MseError(
        'closed',
        `connection failed during the encryption handshake: ${error.message}`,
        {
          cause: error,
        },
      ),
    );
  };
}
