/**
 * The BitTorrent byte stream over an RC4-enciphered connection: a Duplex whose
 * reads are the socket's bytes deciphered and whose writes are enciphered onto
 * the socket. Back-pressure passes through both ways (a full reader pauses the
 * socket; a full socket holds our write callback until 'drain'), so nothing
 * here buffers more than the streams on either side would.
 *
 * Like the raw socket handed back for plaintext, it starts paused: attach the
 * listeners, then call resume().
 */
import { Duplex } from 'node:stream';
import type { StreamCipher } from './rc4.ts';

export class MseStream extends Duplex {
  /** The connection underneath (for its addresses, setNoDelay, ...). Never write to it directly. */
  readonly socket: Duplex;
  readonly #encrypt: StreamCipher;
  readonly #decrypt: StreamCipher;
  /** The callback of a write the socket could not take at once, until 'drain'. */
  #waitingForDrain: ((error?: Error | null) => void) | null = null;
  #socketEnded = false;

  constructor(socket: Duplex, ciphers: { encrypt: StreamCipher; decrypt: StreamCipher }) {
    super({ allowHalfOpen: false });
    this.socket = socket;
    this.#encrypt = ciphers.encrypt;
    this.#decrypt = ciphers.decrypt;
    this.pause();
    socket.on('data', (chunk: Buffer) => {
      // Socket chunks are ours alone, so deciphering may overwrite them.
      if (!this.push(this.#decrypt.updateInPlace(chunk))) socket.pause();
    });
    socket.on('end', () => {
      this.#socketEnded = true;
      this.push(null);
    });
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => {
      // After a clean end, what we deciphered but nobody has read yet is still
      // theirs to read: close once it has been (as net.Socket does).
      if (this.#socketEnded && !this.readableEnded) this.once('end', () => this.destroy());
      else this.destroy();
    });
    socket.on('drain', () => this.#flushed());
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
    // After cork()/uncork(): one enciphered buffer, one socket write.
    const joined =
      chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.#send(
      chunks.length === 1 ? this.#encrypt.update(joined) : this.#encrypt.updateInPlace(joined),
      done,
    );
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
