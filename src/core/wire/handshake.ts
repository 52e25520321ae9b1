/**
 * The BEP 3 handshake: <pstrlen=19><"BitTorrent protocol"><8 reserved bytes>
 * <20-byte info-hash><20-byte peer id>, 68 bytes in all. Pure codec: the
 * connection feeds it whatever bytes arrived so far.
 */

export const PROTOCOL_STRING = 'BitTorrent protocol';
export const HANDSHAKE_LENGTH = 68;

const PSTR = new TextEncoder().encode(PROTOCOL_STRING);
const PSTRLEN = PSTR.length; // 19
const RESERVED_OFFSET = 1 + PSTRLEN; // 20
const INFO_HASH_OFFSET = RESERVED_OFFSET + 8; // 28
const PEER_ID_OFFSET = INFO_HASH_OFFSET + 20; // 48

export interface Handshake {
  /** 8 bytes of feature flags; see the reserved-bit helpers below. */
  reserved: Uint8Array;
  /** 20 bytes: the v1 info-hash, or a v2 info-hash truncated to 20 bytes (BEP 52). */
  infoHash: Uint8Array;
  /** 20 bytes, chosen by the peer; not trustworthy, only for display and self-detection. */
  peerId: Uint8Array;
}

export type HandshakeDecodeResult =
  | {
      status: 'need-more';
      /** Bytes still missing before a full handshake. */
      missing: number;
      /**
       * Present once the first 48 bytes arrived: BEP 3 lets a receiver pick the
       * torrent (and answer) before the peer id arrives; some clients wait for
       * our handshake before sending their peer id.
       */
      infoHash?: Uint8Array;
      reserved?: Uint8Array;
    }
  | {
      status: 'ok';
      handshake: Handshake;
      /** Bytes after the handshake: the start of the message stream (a view, not a copy). */
      rest: Uint8Array;
    }
  | { status: 'invalid'; reason: string };

export function encodeHandshake(handshake: Handshake): Uint8Array {
  checkLength(handshake.reserved, 8, 'reserved');
  checkLength(handshake.infoHash, 20, 'infoHash');
  checkLength(handshake.peerId, 20, 'peerId');
  const out = new Uint8Array(HANDSHAKE_LENGTH);
  out[0] = PSTRLEN;
  out.set(PSTR, 1);
  out.set(handshake.reserved, RESERVED_OFFSET);
  out.set(handshake.infoHash, INFO_HASH_OFFSET);
  out.set(handshake.peerId, PEER_ID_OFFSET);
  return out;
}

/**
 * Decodes a handshake from the bytes received so far (call again with the
 * grown buffer on `need-more`). Rejects as soon as the prefix cannot be a
 * BitTorrent handshake, so a stranger (or an MSE-encrypted stream) is dropped
 * after its first bytes rather than after 68. Returned fields are copies, so
 * the caller may reuse its buffer; `rest` is a view into `bytes`.
 */
export function decodeHandshake(bytes: Uint8Array): HandshakeDecodeResult {
  if (bytes.length === 0) return { status: 'need-more', missing: HANDSHAKE_LENGTH };
  if (bytes[0] !== PSTRLEN) {
    return { status: 'invalid', reason: `protocol string length ${bytes[0]}, expected 19` };
  }
  const pstrEnd = Math.min(bytes.length, RESERVED_OFFSET);
  for (let i = 1; i < pstrEnd; i++) {
    if (bytes[i] !== PSTR[i - 1]) {
      return { status: 'invalid', reason: 'protocol string is not "BitTorrent protocol"' };
    }
  }
  if (bytes.length < HANDSHAKE_LENGTH) {
    const result: HandshakeDecodeResult = {
      status: 'need-more',
      missing: HANDSHAKE_LENGTH - bytes.length,
    };
    if (bytes.length >= PEER_ID_OFFSET) {
      result.reserved = bytes.slice(RESERVED_OFFSET, INFO_HASH_OFFSET);
      result.infoHash = bytes.slice(INFO_HASH_OFFSET, PEER_ID_OFFSET);
    }
    return result;
  }
  return {
    status: 'ok',
    handshake: {
      reserved: bytes.slice(RESERVED_OFFSET, INFO_HASH_OFFSET),
      infoHash: bytes.slice(INFO_HASH_OFFSET, PEER_ID_OFFSET),
      peerId: bytes.slice(PEER_ID_OFFSET, HANDSHAKE_LENGTH),
    },
    rest: bytes.subarray(HANDSHAKE_LENGTH),
  };
}

// Reserved bits. Byte/bit positions as the BEPs give them (reserved[0] is the
// first byte on the wire).

export interface ReservedFlags {
  /** BEP 10 extension protocol: reserved[5] & 0x10. */
  extensionProtocol: boolean;
  /** BEP 6 fast extension: reserved[7] & 0x04. */
  fastExtension: boolean;
  /** BEP 5 DHT (the peer sends a `port` message): reserved[7] & 0x01. */
  dht: boolean;
  /** BEP 52 upgrade to v2 for hybrid torrents: reserved[7] & 0x10. */
  v2Upgrade: boolean;
}

const FLAG_BITS: Record<keyof ReservedFlags, readonly [byte: number, mask: number]> = {
  extensionProtocol: [5, 0x10],
  fastExtension: [7, 0x04],
  dht: [7, 0x01],
  v2Upgrade: [7, 0x10],
};

/** Builds the 8 reserved bytes with the given features advertised. */
export function makeReserved(flags: Partial<ReservedFlags>): Uint8Array {
  const reserved = new Uint8Array(8);
  for (const key of Object.keys(FLAG_BITS) as (keyof ReservedFlags)[]) {
    if (flags[key]) {
      const [byte, mask] = FLAG_BITS[key];
      reserved[byte] |= mask;
    }
  }
  return reserved;
}

/** Reads the features a peer advertised; unknown bits are ignored. */
export function parseReserved(reserved: Uint8Array): ReservedFlags {
  return {
    extensionProtocol: hasBit(reserved, 'extensionProtocol'),
    fastExtension: hasBit(reserved, 'fastExtension'),
    dht: hasBit(reserved, 'dht'),
    v2Upgrade: hasBit(reserved, 'v2Upgrade'),
  };
}

export function supportsExtensionProtocol(reserved: Uint8Array): boolean {
  return hasBit(reserved, 'extensionProtocol');
}
export function supportsFastExtension(reserved: Uint8Array): boolean {
  return hasBit(reserved, 'fastExtension');
}
export function supportsDht(reserved: Uint8Array): boolean {
  return hasBit(reserved, 'dht');
}
export function supportsV2Upgrade(reserved: Uint8Array): boolean {
  return hasBit(reserved, 'v2Upgrade');
}

function hasBit(reserved: Uint8Array, flag: keyof ReservedFlags): boolean {
  const [byte, mask] = FLAG_BITS[flag];
  return ((reserved[byte] ?? 0) & mask) !== 0;
}

function checkLength(bytes: Uint8Array, length: number, name: string): void {
  // Our own values: a wrong length is a bug in the caller, not peer misbehaviour.
  if (bytes.length !== length) {
    throw new RangeError(`handshake ${name} must be ${length} bytes, got ${bytes.length}`);
  }
}
