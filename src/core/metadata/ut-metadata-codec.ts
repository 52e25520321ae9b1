/**
 * BEP 9 ut_metadata messages: the payload of an `extended` wire message whose
 * id is the one a peer assigned to `ut_metadata`. Each message is a bencoded
 * dictionary (`msg_type`, `piece`, and for data `total_size`); a data message
 * carries the raw metadata piece right after the dictionary.
 *
 * Pure codec. Everything decoded here is hostile: the dictionary is tiny and
 * decoded under tight limits, the announced size is capped, piece indexes must
 * fall inside the metadata, and a data piece must be exactly 16 KiB (only the
 * last piece is shorter, by exactly the amount the total size says).
 */
import { decodeBencode, encodeBencode, isDict, type BencodeValue } from '../bencode/index.ts';
import { WireProtocolError } from '../wire/errors.ts';

/** Extension name in the BEP 10 `m` dictionary. */
export const UT_METADATA = 'ut_metadata';
/** Every metadata piece is 16 KiB except the last. */
export const METADATA_PIECE_SIZE = 16 * 1024;
/**
 * Largest info dictionary we fetch or serve. Real ones are a few hundred KiB
 * (a 1 TB torrent with 4 MiB pieces has 5 MiB of SHA-1s); libtorrent's
 * default cap is 30 MiB, but 16 MiB keeps a hostile peer's cost bounded.
 */
export const MAX_METADATA_SIZE = 16 * 1024 * 1024;
/** The dictionary part is ~50 bytes; anything long is not an honest message. */
const MAX_DICT_BYTES = 512;

export const MsgType = { request: 0, data: 1, reject: 2 } as const;

export type UtMetadataMessage =
  | { type: 'request'; piece: number }
  | { type: 'data'; piece: number; totalSize: number; data: Uint8Array }
  | { type: 'reject'; piece: number }
  /** BEP 9: unknown message types are ignored, not an error. */
  | { type: 'unknown'; msgType: number };

export interface UtMetadataDecodeOptions {
  /**
   * The metadata size the peer announced in its extended handshake (already
   * checked with `checkMetadataSize`). When given, `total_size` must equal it
   * and request/reject indexes must be in range.
   */
  metadataSize?: number;
  /** Cap on `total_size` (default MAX_METADATA_SIZE). */
  maxMetadataSize?: number;
}

/** Number of 16 KiB pieces of metadata of this size. */
export function metadataPieceCount(size: number): number {
  return Math.ceil(size / METADATA_PIECE_SIZE);
}

/** Exact byte length of metadata piece `piece` (the last one may be short). */
export function metadataPieceLength(size: number, piece: number): number {
  const start = piece * METADATA_PIECE_SIZE;
  return Math.min(METADATA_PIECE_SIZE, size - start);
}

/**
 * Validates a `metadata_size` a peer announced. Returns the size, or throws
 * WireProtocolError when it is not a positive integer within the cap.
 */
export function checkMetadataSize(size: number, max = MAX_METADATA_SIZE): number {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new WireProtocolError('bad-extension', `metadata size ${size} is not a positive integer`);
  }
  if (size > max) {
    throw new WireProtocolError(
      'bad-extension',
      `metadata size ${size} is over the ${max}-byte cap`,
    );
  }
  return size;
}

export function encodeUtMetadata(message: UtMetadataMessage): Uint8Array {
  switch (message.type) {
    case 'request':
    case 'reject':
      checkIndex(message.piece);
      return encodeBencode(
        new Map<string, number>([
          ['msg_type', MsgType[message.type]],
          ['piece', message.piece],
        ]),
      );
    case 'data': {
      checkIndex(message.piece);
      // Our own values: a mismatch is a bug in the caller, not peer misbehaviour.
      if (!Number.isSafeInteger(message.totalSize) || message.totalSize <= 0) {
        throw new RangeError(`total size out of range: ${message.totalSize}`);
      }
      if (message.piece >= metadataPieceCount(message.totalSize)) {
        throw new RangeError(`piece ${message.piece} is past the end of the metadata`);
      }
      const expected = metadataPieceLength(message.totalSize, message.piece);
      if (message.data.length !== expected) {
        throw new RangeError(`piece ${message.piece} must be ${expected} bytes`);
      }
      const dict = encodeBencode(
        new Map<string, number>([
          ['msg_type', MsgType.data],
          ['piece', message.piece],
          ['total_size', message.totalSize],
        ]),
      );
      const out = new Uint8Array(dict.length + message.data.length);
      out.set(dict, 0);
      out.set(message.data, dict.length);
      return out;
    }
    case 'unknown':
      throw new RangeError('cannot encode an unknown ut_metadata message');
  }
}

/**
 * Decodes a ut_metadata payload. Throws WireProtocolError ('bad-extension')
 * for anything malformed, out of range or over the caps. A `data` message's
 * `data` is a view into `payload`: copy it if the payload buffer is reused.
 */
export function decodeUtMetadata(
  payload: Uint8Array,
  options: UtMetadataDecodeOptions = {},
): UtMetadataMessage {
  const max = options.maxMetadataSize ?? MAX_METADATA_SIZE;
  let value: BencodeValue;
  let end: number;
  try {
    // Only the dictionary is bencode: it must end within the first MAX_DICT_BYTES.
    ({ value, end } = decodeBencode(payload.subarray(0, MAX_DICT_BYTES), {
      limits: { maxDepth: 2, maxTokens: 32 },
      allowTrailing: true,
    }));
  } catch (error) {
    throw bad(`malformed ut_metadata message: ${(error as Error).message}`, error);
  }
  if (!isDict(value)) throw bad('ut_metadata message is not a dictionary');
  const msgType = intField(value, 'msg_type');
  if (msgType === undefined) throw bad('ut_metadata message without an integer msg_type');
  if (msgType !== MsgType.request && msgType !== MsgType.data && msgType !== MsgType.reject) {
    return { type: 'unknown', msgType };
  }
  const piece = intField(value, 'piece');
  if (piece === undefined || piece < 0) throw bad('ut_metadata message without a valid piece');
  // No metadata within the cap has this piece (and the encoder could not write it back).
  if (piece >= metadataPieceCount(max)) {
    throw bad(`ut_metadata piece ${piece} is past the end of the largest metadata allowed`);
  }
  const rest = payload.length - end;

  if (msgType !== MsgType.data) {
    if (rest !== 0) throw bad('ut_metadata request or reject with trailing data');
    if (options.metadataSize !== undefined && piece >= metadataPieceCount(options.metadataSize)) {
      throw bad(`ut_metadata piece ${piece} is past the end of the metadata`);
    }
    return { type: msgType === MsgType.request ? 'request' : 'reject', piece };
  }

  const totalSize = intField(value, 'total_size');
  if (totalSize === undefined || totalSize <= 0) throw bad('ut_metadata data without total_size');
  if (totalSize > max) throw bad(`ut_metadata total size ${totalSize} is over the ${max}-byte cap`);
  if (options.metadataSize !== undefined && totalSize !== options.metadataSize) {
    throw bad(
      `ut_metadata total size ${totalSize} differs from the announced ${options.metadataSize}`,
    );
  }
  if (piece >= metadataPieceCount(totalSize)) {
    throw bad(`ut_metadata piece ${piece} is past the end of ${totalSize} bytes`);
  }
  const expected = metadataPieceLength(totalSize, piece);
  if (rest !== expected) {
    throw bad(`ut_metadata piece ${piece} has ${rest} bytes, expected ${expected}`);
  }
  return { type: 'data', piece, totalSize, data: payload.subarray(end) };
}

function intField(dict: Record<string, BencodeValue>, key: string): number | undefined {
  const value = Object.hasOwn(dict, key) ? dict[key] : undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

function checkIndex(piece: number): void {
  if (!Number.isSafeInteger(piece) || piece < 0 || piece >= metadataPieceCount(MAX_METADATA_SIZE)) {
    throw new RangeError(`metadata piece index out of range: ${piece}`);
  }
}

function bad(message: string, cause?: unknown): WireProtocolError {
  return new WireProtocolError(
    'bad-extension',
    message,
    cause === undefined ? undefined : { cause },
  );
}
