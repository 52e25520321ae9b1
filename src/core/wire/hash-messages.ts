/**
 * BEP 52 hash messages: `hash request` (21), `hashes` (22) and `hash reject`
 * (23). They carry a file's merkle hashes that the info dictionary does not:
 * a v2 magnet link (or a .torrent without `piece layers`) gets its piece
 * layers from peers this way.
 *
 * Every message starts with the same 48-byte header:
 *   <pieces root: 32><base layer: u32><index: u32><length: u32><proof layers: u32>
 * - base layer: the tree layer of the hashes asked for (0 = 16 KiB blocks;
 *   the piece layer is log2(piece length / 16 KiB));
 * - index, length: the first hash and how many, in that layer;
 * - proof layers: how many layers above the base layer the answer must let
 *   the requester verify, with one "uncle" hash per layer beyond the subtree
 *   the hashes themselves span.
 * `hashes` follows the header with `length` hashes, then the uncles, lowest
 * layer first. The uncle count is libtorrent's (the reference implementation,
 * which both sends and checks it this way): max(0, proof layers - log2(length) + 1)
 * with the length rounded up to a power of two.
 *
 * Limits (hostile input): a length of 1 to 8192 hashes (libtorrent's cap: a
 * whole 128 MiB piece of blocks), proof and base layers below 64 (a file
 * tree of 2^63 blocks is beyond any real file), and a `hashes` payload of
 * exactly the size its header implies.
 */
import { WireProtocolError } from './errors.ts';

export const HASH_REQUEST_ID = 21;
export const HASHES_ID = 22;
export const HASH_REJECT_ID = 23;

/** Bytes of the header every hash message starts with (after the id byte). */
export const HASH_HEADER_LENGTH = 48;
export const HASH_LENGTH = 32;
/** Most hashes one message may ask for or carry in its base layer (libtorrent's limit). */
export const MAX_HASH_COUNT = 8192;
/** Highest base layer or proof layer count accepted. */
export const MAX_LAYERS = 63;
/** Largest `hashes` payload: the most hashes plus an uncle for every layer. */
export const MAX_HASHES_PAYLOAD = HASH_HEADER_LENGTH + (MAX_HASH_COUNT + MAX_LAYERS) * HASH_LENGTH;

/** Which hashes: the fields of the common header. */
export interface HashRange {
  /** The file's 32-byte `pieces root`. */
  piecesRoot: Uint8Array;
  baseLayer: number;
  index: number;
  length: number;
  proofLayers: number;
}

export type HashMessage =
  | ({ type: 'hash-request' } & HashRange)
  | ({ type: 'hash-reject' } & HashRange)
  /** `hashes`: `length` base-layer hashes, then the uncle hashes (lowest layer first). */
  | ({ type: 'hashes' } & HashRange & { hashes: Uint8Array; uncles: Uint8Array });

/** log2 of `length` rounded up to a power of two (libtorrent's merkle_num_layers(merkle_num_leafs(n))). */
function subtreeHeight(length: number): number {
  let height = 0;
  while (2 ** height < length) height++;
  return height;
}

/** How many uncle hashes follow the base-layer hashes of a `hashes` message for this range. */
export function uncleCount(range: Pick<HashRange, 'length' | 'proofLayers'>): number {
  return Math.max(0, range.proofLayers - subtreeHeight(range.length) + 1);
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    bytes[offset]! * 0x1000000 +
    ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!)
  );
}

function fail(message: string): never {
  throw new WireProtocolError('bad-value', message);
}

/** The header of a hash message's payload, checked against the limits. */
function decodeRange(payload: Uint8Array): HashRange {
  if (payload.length < HASH_HEADER_LENGTH) {
    throw new WireProtocolError(
      'bad-length',
      `hash message of ${payload.length} bytes is shorter than its ${HASH_HEADER_LENGTH}-byte header`,
    );
  }
  const range: HashRange = {
    piecesRoot: payload.slice(0, 32),
    baseLayer: readU32(payload, 32),
    index: readU32(payload, 36),
    length: readU32(payload, 40),
    proofLayers: readU32(payload, 44),
  };
  if (range.length === 0 || range.length > MAX_HASH_COUNT)
    fail(`hash message for ${range.length} hashes (allowed: 1 to ${MAX_HASH_COUNT})`);
  if (range.baseLayer > MAX_LAYERS) fail(`hash message base layer ${range.baseLayer} is too high`);
  if (range.proofLayers > MAX_LAYERS)
    fail(`hash message asks for ${range.proofLayers} proof layers (at most ${MAX_LAYERS})`);
  if (range.index + range.length > 0x100000000) fail('hash message range runs past 2^32');
  return range;
}

/**
 * Decodes the payload (after the id byte) of message `id` (21, 22 or 23).
 * Throws WireProtocolError on anything malformed: the peer broke the protocol.
 */
export function decodeHashMessage(id: number, payload: Uint8Array): HashMessage {
  if (id === HASH_REQUEST_ID || id === HASH_REJECT_ID) {
    if (payload.length !== HASH_HEADER_LENGTH) {
      throw new WireProtocolError(
        'bad-length',
        `message id ${id} has a ${payload.length}-byte payload, expected ${HASH_HEADER_LENGTH}`,
      );
    }
    const range = decodeRange(payload);
    return { type: id === HASH_REQUEST_ID ? 'hash-request' : 'hash-reject', ...range };
  }
  if (id !== HASHES_ID) fail(`message id ${id} is not a hash message`);
  const range = decodeRange(payload);
  const expected = HASH_HEADER_LENGTH + (range.length + uncleCount(range)) * HASH_LENGTH;
  if (payload.length !== expected) {
    throw new WireProtocolError(
      'bad-length',
      `hashes message of ${payload.length} bytes, its header implies ${expected}`,
    );
  }
  const split = HASH_HEADER_LENGTH + range.length * HASH_LENGTH;
  return {
    type: 'hashes',
    ...range,
    hashes: payload.slice(HASH_HEADER_LENGTH, split),
    uncles: payload.slice(split),
  };
}

function u32(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new RangeError(`${name} out of uint32 range: ${value}`);
  return value;
}

/** Encodes a whole frame (<length><id><payload>). Throws RangeError on our own bad fields. */
export function encodeHashMessage(message: HashMessage): Uint8Array {
  if (message.piecesRoot.length !== 32) throw new RangeError('pieces root must be 32 bytes');
  const body = message.type === 'hashes' ? message.hashes.length + message.uncles.length : 0;
  if (message.type === 'hashes') {
    if (message.hashes.length !== message.length * HASH_LENGTH)
      throw new RangeError('hashes message carries a different number of hashes than its length');
    if (message.uncles.length !== uncleCount(message) * HASH_LENGTH)
      throw new RangeError('hashes message carries the wrong number of uncle hashes');
  }
  const out = new Uint8Array(5 + HASH_HEADER_LENGTH + body);
  const view = new DataView(out.buffer);
  view.setUint32(0, 1 + HASH_HEADER_LENGTH + body);
  out[4] =
    message.type === 'hash-request'
      ? HASH_REQUEST_ID
      : message.type === 'hashes'
        ? HASHES_ID
        : HASH_REJECT_ID;
  out.set(message.piecesRoot, 5);
  view.setUint32(37, u32(message.baseLayer, 'base layer'));
  view.setUint32(41, u32(message.index, 'index'));
  view.setUint32(45, u32(message.length, 'length'));
  view.setUint32(49, u32(message.proofLayers, 'proof layers'));
  if (message.type === 'hashes') {
    out.set(message.hashes, 5 + HASH_HEADER_LENGTH);
    out.set(message.uncles, 5 + HASH_HEADER_LENGTH + message.hashes.length);
  }
  return out;
}
