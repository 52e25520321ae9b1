/**
 * Text decoding for metainfo strings. Torrents are supposed to be UTF-8 but
 * old ones carry local code pages and broken ones carry garbage; decoding must
 * never throw.
 */

import { isUtf8 } from 'node:buffer';

const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * True when the bytes are valid UTF-8. Node's native check rather than a
 * fatal TextDecoder: no string is made and nothing is thrown, which counts
 * when a torrent has hundreds of thousands of file names.
 */
export function isValidUtf8(bytes: Uint8Array): boolean {
  return isUtf8(bytes);
}

/**
 * Display text (comment, created by, source, URLs): invalid sequences become
 * U+FFFD, as every WHATWG decoder does.
 */
export function decodeText(bytes: Uint8Array): string {
  return lenient.decode(bytes);
}

/**
 * File and torrent names: invalid sequences become `_`. This matches what
 * libtorrent writes to disk for the same torrent (so data another client
 * downloaded is found by `inspect --verify`), and keeps names plain ASCII
 * where they were broken rather than full of replacement characters.
 */
export function decodeName(bytes: Uint8Array): string {
  const ascii = asciiText(bytes);
  if (ascii !== null) return ascii;
  const text = lenient.decode(bytes);
  return isUtf8(bytes) ? text : text.replace(/\uFFFD/g, '_');
}

/** Plain-ASCII names (nearly all of them) without a decoder call (see latin1Text). */
function asciiText(bytes: Uint8Array): string | null {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! > 0x7f) return null;
  return latin1Text(bytes);
}

/**
 * Each byte as one character. Short inputs are read element by element: the
 * bencode package gives every string its own small Uint8Array, which V8 keeps
 * on its heap until something asks for `.buffer` (as Buffer.from and
 * TextDecoder do) and then moves out, at ~1 µs each; on a torrent with
 * hundreds of thousands of files that was seconds of parsing.
 */
export function latin1Text(bytes: Uint8Array): string {
  if (bytes.length <= 1024) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
