/**
 * Peer wire messages after the handshake (BEP 3, BEP 5 port, BEP 6 fast
 * extension, BEP 10 extended; BEP 52's hash messages are in hash-messages.ts).
 * Every frame is <uint32 length><uint8 id><payload>, big-endian; length 0 is
 * a keep-alive.
 */
import {
  encodeHashMessage,
  HASH_REJECT_ID,
  HASH_REQUEST_ID,
  HASHES_ID,
  type HashMessage,
} from './hash-messages.ts';

/** Message ids on the wire. */
export const MessageId = {
  choke: 0,
  unchoke: 1,
  interested: 2,
  notInterested: 3,
  have: 4,
  bitfield: 5,
  request: 6,
  piece: 7,
  cancel: 8,
  port: 9,
  suggest: 0x0d,
  haveAll: 0x0e,
  haveNone: 0x0f,
  reject: 0x10,
  allowedFast: 0x11,
  extended: 20,
  hashRequest: HASH_REQUEST_ID,
  hashes: HASHES_ID,
  hashReject: HASH_REJECT_ID,
} as const;

/** The block size every client requests (BEP 3 de facto; libtorrent refuses larger by default). */
export const BLOCK_SIZE = 16 * 1024;
/** <length><id><index><begin>: the bytes before a piece message's block. */
export const PIECE_HEADER_LENGTH = 13;

export interface BlockRef {
  index: number;
  begin: number;
  length: number;
}

export type WireMessage =
  | { type: 'keep-alive' }
  | { type: 'choke' }
  | { type: 'unchoke' }
  | { type: 'interested' }
  | { type: 'not-interested' }
  | { type: 'have'; index: number }
  /** Raw bytes; check them against the piece count with BitField.fromBytes. */
  | { type: 'bitfield'; bytes: Uint8Array }
  | ({ type: 'request' } & BlockRef)
  | { type: 'piece'; index: number; begin: number; block: Uint8Array }
  | ({ type: 'cancel' } & BlockRef)
  | { type: 'port'; port: number }
  | { type: 'suggest'; index: number }
  | { type: 'have-all' }
  | { type: 'have-none' }
  | ({ type: 'reject' } & BlockRef)
  | { type: 'allowed-fast'; index: number }
  /** id 0 is the extended handshake; other ids are the ones we announced in our `m`. */
  | { type: 'extended'; id: number; payload: Uint8Array }
  /** BEP 52 `hash request`, `hashes`, `hash reject`. */
  | HashMessage;

export type WireMessageType = WireMessage['type'];

/**
 * Encodes one message into a fresh buffer. A `piece` message copies its block;
 * to send a block without that copy, write `encodePieceHeader` then the block.
 * Throws RangeError for out-of-range fields: those are bugs in our own code.
 */
export function encodeMessage(msg: WireMessage): Uint8Array {
  switch (msg.type) {
    case 'keep-alive':
      return new Uint8Array(4);
    case 'choke':
      return bare(MessageId.choke);
    case 'unchoke':
      return bare(MessageId.unchoke);
    case 'interested':
      return bare(MessageId.interested);
    case 'not-interested':
      return bare(MessageId.notInterested);
    case 'have-all':
      return bare(MessageId.haveAll);
    case 'have-none':
      return bare(MessageId.haveNone);
    case 'have':
      return withIndex(MessageId.have, msg.index);
    case 'suggest':
      return withIndex(MessageId.suggest, msg.index);
    case 'allowed-fast':
      return withIndex(MessageId.allowedFast, msg.index);
    case 'request':
      return withBlockRef(MessageId.request, msg);
    case 'cancel':
      return withBlockRef(MessageId.cancel, msg);
    case 'reject':
      return withBlockRef(MessageId.reject, msg);
    case 'bitfield': {
      const { out } = frame(MessageId.bitfield, msg.bytes.length);
      out.set(msg.bytes, 5);
      return out;
    }
    case 'piece': {
      const out = new Uint8Array(PIECE_HEADER_LENGTH + msg.block.length);
      out.set(encodePieceHeader(msg.index, msg.begin, msg.block.length), 0);
      out.set(msg.block, PIECE_HEADER_LENGTH);
      return out;
    }
    case 'port': {
      if (!Number.isInteger(msg.port) || msg.port < 0 || msg.port > 0xffff) {
        throw new RangeError(`port out of range: ${msg.port}`);
      }
      const { out, view } = frame(MessageId.port, 2);
      view.setUint16(5, msg.port);
      return out;
    }
    case 'hash-request':
    case 'hashes':
    case 'hash-reject':
      return encodeHashMessage(msg);
    case 'extended': {
      if (!Number.isInteger(msg.id) || msg.id < 0 || msg.id > 0xff) {
        throw new RangeError(`extended message id out of range: ${msg.id}`);
      }
      const { out } = frame(MessageId.extended, 1 + msg.payload.length);
      out[5] = msg.id;
      out.set(msg.payload, 6);
      return out;
    }
  }
}

/**
 * Many `request` messages back to back in one buffer: a download sends them
 * by the hundred, and one buffer (one socket write) is far cheaper than one each.
 */
export function encodeRequests(blocks: readonly BlockRef[]): Uint8Array {
  const out = new Uint8Array(REQUEST_LENGTH * blocks.length);
  const view = new DataView(out.buffer);
  for (let i = 0, at = 0; i < blocks.length; i++, at += REQUEST_LENGTH) {
    const block = blocks[i]!;
    view.setUint32(at, 13);
    out[at + 4] = MessageId.request;
    view.setUint32(at + 5, u32(block.index, 'index'));
    view.setUint32(at + 9, u32(block.begin, 'begin'));
    view.setUint32(at + 13, u32(block.length, 'length'));
  }
  return out;
}

/** Bytes of one `request` message: length prefix, id, index, begin, length. */
const REQUEST_LENGTH = 17;

/**
 * The 13 bytes that precede a block in a `piece` message, for a caller that
 * writes the block (read straight from disk) as a separate buffer.
 */
export function encodePieceHeader(index: number, begin: number, blockLength: number): Uint8Array {
  const { out, view } = frame(MessageId.piece, 8 + blockLength, 8);
  view.setUint32(5, u32(index, 'index'));
  view.setUint32(9, u32(begin, 'begin'));
  return out;
}

/**
 * Allocates <length><id> plus `allocated` payload bytes (default: the whole
 * payload). The length field always says 1 + payloadLength.
 */
function frame(
  id: number,
  payloadLength: number,
  allocated = payloadLength,
): { out: Uint8Array; view: DataView } {
  const length = u32(1 + payloadLength, 'message length');
  const out = new Uint8Array(5 + allocated);
  const view = new DataView(out.buffer);
  view.setUint32(0, length);
  out[4] = id;
  return { out, view };
}

function bare(id: number): Uint8Array {
  return frame(id, 0).out;
}

function withIndex(id: number, index: number): Uint8Array {
  const { out, view } = frame(id, 4);
  view.setUint32(5, u32(index, 'index'));
  return out;
}

function withBlockRef(id: number, ref: BlockRef): Uint8Array {
  const { out, view } = frame(id, 12);
  view.setUint32(5, u32(ref.index, 'index'));
  view.setUint32(9, u32(ref.begin, 'begin'));
  view.setUint32(13, u32(ref.length, 'length'));
  return out;
}

function u32(value: number, name: string): number {
  // DataView silently wraps out-of-range numbers; a wrapped index would ask
  // for the wrong data, so refuse instead.
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${name} out of uint32 range: ${value}`);
  }
  return value;
}
