/**
 * The start of an incoming connection, read before anyone knows which torrent
 * it is for: the handshake's first 48 bytes (protocol string, reserved bits,
 * info-hash). Whoever listens for many torrents reads this much and routes
 * the stream to the torrent it names.
 */
import type { Duplex } from 'node:stream';

const PROTOCOL = Buffer.from('\x13BitTorrent protocol', 'latin1');
/** Length byte + protocol string + 8 reserved bytes + 20-byte info-hash. */
export const OPENING_LENGTH = 48;

/**
 * Reads the opening of `stream`; resolves with it and leaves the stream
 * paused with nothing else consumed, or rejects with the reason (not
 * BitTorrent, too slow, closed). Bytes past the opening are pushed back.
 * `alreadyRead` is what a layer below took off the stream first (the bytes
 * the encryption handshake read past its end): it counts as read before the stream.
 */
export function readOpening(
  stream: Duplex,
  timeoutMs: number,
  alreadyRead: Buffer = Buffer.alloc(0),
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let received = Buffer.alloc(0);
    const finish = (error: Error | null, opening?: Buffer) => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('close', onClose);
      stream.off('error', onClose);
      if (error) reject(error);
      else resolve(opening!);
    };
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const checked = Math.min(received.length, PROTOCOL.length);
      if (!received.subarray(0, checked).equals(PROTOCOL.subarray(0, checked))) {
        finish(new Error('not a BitTorrent handshake'));
        return;
      }
      if (received.length < OPENING_LENGTH) return;
      stream.pause();
      // Whatever came after the opening is the rest of the handshake: hand it back in order.
      if (received.length > OPENING_LENGTH) stream.unshift(received.subarray(OPENING_LENGTH));
      finish(null, received.subarray(0, OPENING_LENGTH));
    };
    const onClose = () => finish(new Error('closed during the handshake'));
    const timer = setTimeout(() => finish(new Error('handshake timed out')), timeoutMs);
    stream.on('data', onData);
    stream.once('close', onClose);
    stream.once('error', onClose);
    if (alreadyRead.length > 0) onData(alreadyRead);
    // An encryption layer hands its stream over paused; a 'data' listener alone would not start it.
    if (received.length < OPENING_LENGTH) stream.resume();
  });
}

/** The info-hash an opening names, as hex (the routing key). */
export function openingInfoHash(opening: Uint8Array): string {
  return Buffer.from(opening.subarray(28, 48)).toString('hex');
}
