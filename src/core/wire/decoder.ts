/**
 * Streaming decoder for the peer wire message stream (everything after the
 * handshake). Pure: the connection pushes the chunks its socket delivered and
 * pulls decoded messages.
 *
 * Memory: the decoder holds at most the chunk last pushed plus one message
 * being assembled, and it sizes that message from the length prefix only
 * after checking the prefix against the limits, so a hostile 4 GiB prefix
 * costs nothing. Unknown message ids are skipped as their bytes stream past,
 * without buffering.
 *
 * Ownership of returned buffers: `bitfield.bytes` and `extended.payload` are
 * always the decoder's own copies (small, rare messages that callers keep).
 * `piece.block` is a view into the chunk given to push() when the whole message
 * arrived inside it (no copy: blocks are the bulk of the traffic), else into a
 * buffer allocated for that one message. A block view is valid until the
 * caller reuses the chunk it pushed, so a connection that reads into one
 * reused buffer must copy a block before its next read (the engine copies
 * each block into its piece buffer at once).
 */
import { WireProtocolError } from './errors.ts';
import { decodeHashMessage, HASH_HEADER_LENGTH, MAX_HASHES_PAYLOAD } from './hash-messages.ts';
import { BLOCK_SIZE, MessageId, type WireMessage } from './messages.ts';

export interface WireDecoderLimits {
  /** Largest block accepted in a `piece` message. */
  maxBlockLength: number;
  /** Largest `bitfield` payload; tighten to ceil(pieceCount / 8) once the piece count is known. */
  maxBitfieldLength: number;
  /** Largest `extended` payload (extension id byte included). */
  maxExtendedLength: number;
  /** Largest payload of a message with an id we do not know (skipped, not buffered). */
  maxUnknownLength: number;
  /** Largest block a peer may `request` from us; zero-length requests are refused too. */
  maxRequestLength: number;
}

export const defaultWireDecoderLimits: Readonly<WireDecoderLimits> = {
  maxBlockLength: BLOCK_SIZE,
  maxBitfieldLength: 1024 * 1024,
  maxExtendedLength: 1024 * 1024,
  maxUnknownLength: 1024 * 1024,
  // libtorrent's own cap on incoming requests; we only ever ask for 16 KiB.
  maxRequestLength: 128 * 1024,
};

/** Exact payload lengths (after the id byte) of the fixed-size messages. */
const FIXED_PAYLOAD: ReadonlyMap<number, number> = new Map([
  [MessageId.choke, 0],
  [MessageId.unchoke, 0],
  [MessageId.interested, 0],
  [MessageId.notInterested, 0],
  [MessageId.haveAll, 0],
  [MessageId.haveNone, 0],
  [MessageId.have, 4],
  [MessageId.suggest, 4],
  [MessageId.allowedFast, 4],
  [MessageId.request, 12],
  [MessageId.cancel, 12],
  [MessageId.reject, 12],
  [MessageId.port, 2],
  [MessageId.hashRequest, HASH_HEADER_LENGTH],
  [MessageId.hashReject, HASH_HEADER_LENGTH],
]);

const EMPTY = new Uint8Array(0);

export class WireDecoder {
  #limits: WireDecoderLimits;
  /** The chunk last pushed and how far into it we have consumed. */
  #chunk: Uint8Array = EMPTY;
  #pos = 0;
  /** Length prefix + id byte of the message being read; may straddle chunks. */
  readonly #head = new Uint8Array(5);
  #headFilled = 0;
  /** Payload being assembled across chunks (null when not assembling). */
  #body: Uint8Array | null = null;
  #bodyFilled = 0;
  #bodyId = 0;
  /** Bytes of an unknown message still to skip. */
  #skipRemaining = 0;
  #failure: WireProtocolError | null = null;
  #skippedMessages = 0;

  constructor(limits: Partial<WireDecoderLimits> = {}) {
    this.#limits = { ...defaultWireDecoderLimits };
    this.setLimits(limits);
  }

  /** Changes limits, e.g. the bitfield cap once metadata tells the piece count. */
  setLimits(limits: Partial<WireDecoderLimits>): void {
    for (const [key, value] of Object.entries(limits) as [keyof WireDecoderLimits, unknown][]) {
      if (value === undefined) continue;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new RangeError(`wire decoder limit ${key} must be a non-negative integer`);
      }
      this.#limits[key] = value;
    }
  }

  get limits(): Readonly<WireDecoderLimits> {
    return { ...this.#limits };
  }

  /** Messages with unknown ids skipped so far. */
  get skippedMessages(): number {
    return this.#skippedMessages;
  }

  /** Bytes held: the unread part of the last chunk plus the message being assembled. */
  get bufferedBytes(): number {
    return this.#chunk.length - this.#pos + (this.#body?.length ?? 0);
  }

  /**
   * Hands the decoder the next chunk of the stream. Drain the previous chunk
   * first (iterate until done): that keeps the memory bound above, so pushing
   * over undrained bytes is a programming error.
   */
  push(chunk: Uint8Array): void {
    if (this.#pos < this.#chunk.length && this.#failure === null) {
      throw new Error('WireDecoder.push() called before the previous chunk was drained');
    }
    this.#chunk = chunk;
    this.#pos = 0;
  }

  /**
   * The next complete message, or null when more bytes are needed. Throws
   * WireProtocolError when the peer broke the protocol; the decoder then stays
   * failed (every later call throws the same error) because the stream can no
   * longer be framed.
   */
  next(): WireMessage | null {
    if (this.#failure !== null) throw this.#failure;
    try {
      return this.#next();
    } catch (error) {
      // Only our own errors can come out of #next (it does no I/O and calls
      // nothing that throws otherwise); keep the invariant explicit anyway.
      this.#failure =
        error instanceof WireProtocolError
          ? error
          : new WireProtocolError('bad-value', 'undecodable message', { cause: error });
      this.#chunk = EMPTY;
      this.#pos = 0;
      this.#body = null;
      throw this.#failure;
    }
  }

  /** Iterates the messages available now; stops when more bytes are needed. */
  *[Symbol.iterator](): IterableIterator<WireMessage> {
    for (let msg = this.next(); msg !== null; msg = this.next()) yield msg;
  }

  #next(): WireMessage | null {
    while (true) {
      if (this.#skipRemaining > 0) {
        const n = Math.min(this.#skipRemaining, this.#chunk.length - this.#pos);
        this.#pos += n;
        this.#skipRemaining -= n;
        if (this.#skipRemaining > 0) return null;
        this.#skippedMessages++;
        continue;
      }

      if (this.#body !== null) {
        const body = this.#body;
        const n = Math.min(body.length - this.#bodyFilled, this.#chunk.length - this.#pos);
        body.set(this.#chunk.subarray(this.#pos, this.#pos + n), this.#bodyFilled);
        this.#pos += n;
        this.#bodyFilled += n;
        if (this.#bodyFilled < body.length) return null;
        this.#body = null;
        return this.#parse(this.#bodyId, body);
      }

      // Reading the 4-byte length prefix, then the id byte.
      if (this.#headFilled < 4) {
        if (!this.#fillHead(4)) return null;
        const length = readU32(this.#head, 0);
        if (length === 0) {
          this.#headFilled = 0;
          return { type: 'keep-alive' };
        }
        // Before even reading the id: nothing legitimate is longer than the
        // largest per-message cap.
        if (length - 1 > this.#maxAnyPayload()) {
          throw new WireProtocolError(
            'message-too-long',
            `message length ${length} exceeds the limit of ${this.#maxAnyPayload() + 1}`,
          );
        }
      }
      if (!this.#fillHead(5)) return null;
      this.#headFilled = 0;
      const payloadLength = readU32(this.#head, 0) - 1;
      const id = this.#head[4]!;
      if (!this.#checkLength(id, payloadLength)) {
        this.#skipRemaining = payloadLength;
        if (payloadLength === 0) this.#skippedMessages++;
        continue;
      }
      const available = this.#chunk.length - this.#pos;
      if (available >= payloadLength) {
        // Whole payload inside this chunk: hand out a view, no copy.
        const payload = this.#chunk.subarray(this.#pos, this.#pos + payloadLength);
        this.#pos += payloadLength;
        return this.#parse(id, payload);
      }
      this.#body = new Uint8Array(payloadLength);
      this.#bodyFilled = 0;
      this.#bodyId = id;
    }
  }

  /** Copies head bytes from the chunk until `want` are filled; false if the chunk ran out. */
  #fillHead(want: number): boolean {
    while (this.#headFilled < want) {
      if (this.#pos >= this.#chunk.length) return false;
      this.#head[this.#headFilled++] = this.#chunk[this.#pos++]!;
    }
    return true;
  }

  #maxAnyPayload(): number {
    const l = this.#limits;
    return Math.max(
      12,
      8 + l.maxBlockLength,
      l.maxBitfieldLength,
      l.maxExtendedLength,
      l.maxUnknownLength,
      MAX_HASHES_PAYLOAD,
    );
  }

  /**
   * Checks a payload length against the id's rules before any of it is
   * buffered. Returns false for an unknown id (to be skipped).
   */
  #checkLength(id: number, payloadLength: number): boolean {
    const fixed = FIXED_PAYLOAD.get(id);
    if (fixed !== undefined) {
      if (payloadLength !== fixed) {
        throw new WireProtocolError(
          'bad-length',
          `message id ${id} has a ${payloadLength}-byte payload, expected ${fixed}`,
        );
      }
      return true;
    }
    const l = this.#limits;
    switch (id) {
      case MessageId.bitfield:
        return capped(id, payloadLength, 0, l.maxBitfieldLength);
      case MessageId.piece:
        return capped(id, payloadLength, 8, 8 + l.maxBlockLength);
      case MessageId.extended:
        return capped(id, payloadLength, 1, l.maxExtendedLength);
      case MessageId.hashes:
        return capped(id, payloadLength, HASH_HEADER_LENGTH, MAX_HASHES_PAYLOAD);
      default:
        capped(id, payloadLength, 0, l.maxUnknownLength);
        return false;
    }
  }

  #parse(id: number, p: Uint8Array): WireMessage {
    switch (id) {
      case MessageId.choke:
        return { type: 'choke' };
      case MessageId.unchoke:
        return { type: 'unchoke' };
      case MessageId.interested:
        return { type: 'interested' };
      case MessageId.notInterested:
        return { type: 'not-interested' };
      case MessageId.haveAll:
        return { type: 'have-all' };
      case MessageId.haveNone:
        return { type: 'have-none' };
      case MessageId.have:
        return { type: 'have', index: readU32(p, 0) };
      case MessageId.suggest:
        return { type: 'suggest', index: readU32(p, 0) };
      case MessageId.allowedFast:
        return { type: 'allowed-fast', index: readU32(p, 0) };
      case MessageId.request: {
        const length = readU32(p, 8);
        if (length === 0 || length > this.#limits.maxRequestLength) {
          throw new WireProtocolError(
            'bad-value',
            `request for ${length} bytes (allowed: 1 to ${this.#limits.maxRequestLength})`,
          );
        }
        return { type: 'request', index: readU32(p, 0), begin: readU32(p, 4), length };
      }
      case MessageId.cancel:
        return {
          type: 'cancel',
          index: readU32(p, 0),
          begin: readU32(p, 4),
          length: readU32(p, 8),
        };
      case MessageId.reject:
        return {
          type: 'reject',
          index: readU32(p, 0),
          begin: readU32(p, 4),
          length: readU32(p, 8),
        };
      case MessageId.port:
        return { type: 'port', port: (p[0]! << 8) | p[1]! };
      case MessageId.bitfield:
        return { type: 'bitfield', bytes: p.slice() };
      case MessageId.piece:
        return { type: 'piece', index: readU32(p, 0), begin: readU32(p, 4), block: p.subarray(8) };
      case MessageId.extended:
        return { type: 'extended', id: p[0]!, payload: p.slice(1) };
      case MessageId.hashRequest:
      case MessageId.hashes:
      case MessageId.hashReject:
        return decodeHashMessage(id, p);
      default:
        // #checkLength routes unknown ids to skipping; reaching here is a bug.
        throw new WireProtocolError('bad-value', `unexpected message id ${id}`);
    }
  }
}

function capped(id: number, length: number, min: number, max: number): true {
  if (length < min) {
    throw new WireProtocolError(
      'bad-length',
      `message id ${id} has a ${length}-byte payload, at least ${min} required`,
    );
  }
  if (length > max) {
    throw new WireProtocolError(
      'message-too-long',
      `message id ${id} has a ${length}-byte payload, limit ${max}`,
    );
  }
  return true;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    bytes[offset]! * 0x1000000 +
    ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!)
  );
}
