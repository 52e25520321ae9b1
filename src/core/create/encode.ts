/**
 * Canonical bencoding for the torrents shoal writes. The `bencode` package
 * sorts dictionary keys with Array#sort, which orders strings by UTF-16 code
 * units (wrong for names mixing U+E000..U+FFFF with astral characters) and
 * byte-string keys such as the `piece layers` roots by their comma-joined
 * decimal text. BEP 3 wants raw byte order, so this encoder sorts keys as
 * UTF-8 bytes itself.
 */

export type EncodeValue = number | string | Uint8Array | RawBencode | EncodeValue[] | EncodeDict;

/** Bytes that are already bencoded: written verbatim (the info dictionary whose hash is already taken). */
export class RawBencode {
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
}
/** A dictionary: a Map (keys may be bytes) or a plain object; undefined/null entries are left out. */
export type EncodeDict =
  | Map<string | Uint8Array, EncodeValue | null | undefined>
  | { [key: string]: EncodeValue | null | undefined };

const encoder = new TextEncoder();

export function encodeCanonical(value: EncodeValue): Uint8Array {
  const parts: Uint8Array[] = [];
  write(value, parts);
  return Buffer.concat(parts);
}

function write(value: EncodeValue, parts: Uint8Array[]): void {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new RangeError(`cannot bencode ${value}: not a safe integer`);
    parts.push(encoder.encode(`i${value}e`));
  } else if (typeof value === 'string') {
    writeBytes(encoder.encode(value), parts);
  } else if (value instanceof Uint8Array) {
    writeBytes(value, parts);
  } else if (value instanceof RawBencode) {
    parts.push(value.bytes);
  } else if (Array.isArray(value)) {
    parts.push(encoder.encode('l'));
    for (const item of value) write(item, parts);
    parts.push(encoder.encode('e'));
  } else {
    const entries: [Uint8Array, EncodeValue][] = [];
    const source = value instanceof Map ? [...value.entries()] : Object.entries(value);
    for (const [key, item] of source) {
      if (item === undefined || item === null) continue;
      entries.push([typeof key === 'string' ? encoder.encode(key) : key, item]);
    }
    entries.sort((a, b) => Buffer.compare(a[0], b[0]));
    for (let i = 1; i < entries.length; i++) {
      if (Buffer.compare(entries[i - 1]![0], entries[i]![0]) === 0) {
        throw new RangeError(
          `duplicate dictionary key ${Buffer.from(entries[i]![0]).toString('hex')}`,
        );
      }
    }
    parts.push(encoder.encode('d'));
    for (const [key, item] of entries) {
      writeBytes(key, parts);
      write(item, parts);
    }
    parts.push(encoder.encode('e'));
  }
}

function writeBytes(bytes: Uint8Array, parts: Uint8Array[]): void {
  parts.push(encoder.encode(`${bytes.length}:`), bytes);
}
