/**
 * Reads of a dialled TCP socket, made into one shared buffer and sent to
 * whichever callback is current. A plain connection sends them straight to
 * the peer connection; an encrypted one first to the MSE handshake (which
 * copies what it keeps), then to the peer connection, deciphered in place
 * under RC4. Either way a download's bytes never land in a buffer of their own.
 */
import type net from 'node:net';

/**
 * Where dialled sockets read: one buffer for all of them. Node otherwise
 * allocates a fresh 64 KiB buffer for every read, which at download speed is
 * gigabytes of short-lived memory to allocate, track and collect (measured:
 * 60-80 MiB of ArrayBuffers waiting for the collector, 35 MiB of peak RSS, on
 * a 1 GiB download). Sharing one is safe because a read's bytes are decoded to
 * the end, synchronously, before the next read, and whatever outlives that is
 * copied: the handshake bytes, bitfields and extension payloads (by the
 * decoder), blocks (into the piece buffers). Accepted sockets cannot take
 * `onread`, so they read the usual way.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

export type ReadSink = (chunk: Buffer) => void;

export class RoutedReads {
  #sink: ReadSink | null = null;
  /** Copies of reads that came while no sink was set, oldest first. */
  #held: Buffer[] = [];

  /**
   * For `net.connect`. A read that finds no sink is held (copied) and pauses
   * the socket (the callback's `false`): whoever sets the next sink resumes it.
   */
  readonly onread: net.OnReadOpts = {
    buffer: SHARED_READ_BUFFER,
    callback: (bytes: number) => {
      const chunk = SHARED_READ_BUFFER.subarray(0, bytes);
      if (this.#sink) {
        this.#sink(chunk);
        return true;
      }
      this.#held.push(Buffer.from(chunk));
      return false;
    },
  };

  /**
   * Sends reads to `sink` from now on, after any held ones (in order); `null`
   * holds them. A chunk is valid only during the call (the next read
   * overwrites it), and the sink may overwrite it (decipher in place).
   */
  sendTo(sink: ReadSink | null): void {
    this.#sink = sink;
    while (sink !== null && this.#sink === sink && this.#held.length > 0) {
      sink(this.#held.shift()!);
    }
  }
}
