/**
 * Text decoding for metainfo strings. Torrents are supposed to be UTF-8 but
 * old ones carry local code pages and broken ones carry garbage; decoding must
 * never throw.
 */

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/** True when the bytes are valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    strict.decode(bytes);
    return true;
  } catch {
    return false;
  }
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
  try {
    return strict.decode(bytes);
  } catch {
    return lenient.decode(bytes).replace(/\uFFFD/g, '_');
  }
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
