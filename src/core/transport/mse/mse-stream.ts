/**
 * The BitTorrent byte stream over an RC4-enciphered connection: a Duplex whose
 * reads are the socket's bytes deciphered and whose writes are enciphered onto
 * the socket. Back-pressure passes through both ways (a full reader pauses the
 * socket; a full socket holds our write callback until 'drain'), so nothing
 * here buffers more than the streams on either side would.
 *
 * Like the raw socket handed back for plaintext, it starts paused: attach the
 * listeners, then call resume().
 *
 * A dialled TCP socket reads into the shared read buffer instead (see
 * routed-reads.ts): its reads are deciphered in place there and never pass
 * through this stream, which is then built with no `decrypt` and only
 * enciphers writes; pausing and resuming it pause and resume the socket.
 */
import { Duplex } from 'node:stream';
import { allocAlignedLike, type StreamCipher } from './rc4.ts';

export class MseStream extends Duplex {
  /** The connection underneath (for its addresses, setNoDelay, ...). Never write to it directly. */
  readonly socket: Duplex;
  readonly #encrypt: StreamCipher;
  /** null: the socket's reads are routed elsewhere (and deciphered there). */
  readonly #decrypt: StreamCipher | null;
  /** The callback of a write the socket could not take at once, until 'drain'. */
  #waitingForDrain: ((error?: Error | null) => void) | null = null;
  #socketEnded = false;

  constructor(socket: Duplex, ciphers: { encrypt: StreamCipher; decrypt: StreamCipher | null }) {
    super({ allowHalfOpen: false });
    this.socket = socket;
    this.#encrypt = ciphers.encrypt;
    const decrypt = ciphers.decrypt;
    this.#decrypt = decrypt;
    this.pause();
    if (decrypt) {
      socket.on('data', (chunk: Buffer) => {
        // Socket chunks are ours alone, so deciphering may overwrite them.
        if (!this.push(decrypt.updateInPlace(chunk))) socket.pause();
      });
    }
    socket.on('end', () => {
      this.#socketEnded = true;
      this.push(null);
    });
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => {
      // After a clean end, what we deciphered but nobody has read yet is still
      // theirs to read: close once it has been (as net.Socket does).
      // (Routed reads leave nothing here to read.)
      if (this.#decrypt && this.#socketEnded && !this.readableEnded) {
        this.once('end', () => this.destroy());
      } else this.destroy();
    });
    socket.on('drain', () => this.#flushed());
  }

  override pause(): this {
    if (!this.#decrypt) this.socket.pause();
    return super.pause();
  }

  override resume(): this {
    if (!this.#decrypt) this.socket.resume();
    return super.resume();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    // update, not updateInPlace: the caller may still hold the buffer (a cached piece block).
    this.#send(this.#encrypt.update(chunk), done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (error?: Error | null) => void): void {
    // After cork()/uncork(): one socket write, each chunk enciphered straight into it (no join
    // first), the largest (a block, after its 13-byte header) placed to go a word at a time.
    let length = 0;
    let largest = chunks[0].chunk;
    let largestAt = 0;
    for (const { chunk } of chunks) {
      if (chunk.length > largest.length) [largest, largestAt] = [chunk, length];
      length += chunk.length;
    }
    const out = allocAlignedLike(length, largest.byteOffset - largestAt);
    let offset = 0;
    for (const { chunk } of chunks) {
      this.#encrypt.updateInto(chunk, out, offset);
      offset += chunk.length;
    }
    this.#send(out, done);
  }

  override _final(done: (error?: Error | null) => void): void {
    this.socket.end(done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // A write waiting for 'drain' is abandoned: Node fails the writes of a destroyed stream itself.
    this.#waitingForDrain = null;
    this.socket.destroy(error ?? undefined);
    done(error);
  }

  #send(bytes: Buffer, done: (error?: Error | null) => void): void {
    if (this.socket.write(bytes)) done();
    else this.#waitingForDrain = done;
  }

  #flushed(): void {
    const waiting = this.#waitingForDrain;
    this.#waitingForDrain = null;
    waiting?.();
  }
}
