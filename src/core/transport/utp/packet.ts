/**
 * The BEP 29 packet codec. Pure: no I/O, every length checked, so a hostile
 * datagram is rejected here and never reaches a connection.
 *
 *   0       4       8               16              24              32
 *   +-------+-------+---------------+---------------+---------------+
 *   | type  | ver   | extension     | connection_id                 |
 *   | timestamp_microseconds                                        |
 *   | timestamp_difference_microseconds                             |
 *   | wnd_size                                                      |
 *   | seq_nr                        | ack_nr                        |
 *   +---------------------------------------------------------------+
 *
 * followed by a chain of extensions (next-type byte, length byte, data),
 * then the payload.
 */

export const HEADER_LENGTH = 20;
export const UTP_VERSION = 1;

export const PacketType = {
  DATA: 0,
  FIN: 1,
  STATE: 2,
  RESET: 3,
  SYN: 4,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export const PACKET_TYPE_NAMES = ['ST_DATA', 'ST_FIN', 'ST_STATE', 'ST_RESET', 'ST_SYN'] as const;

/** Extension type 1: a bitmask of packets received after ack_nr + 1. */
export const EXTENSION_SELECTIVE_ACK = 1;

/** A chain longer than this is hostile: real peers send one or two extensions. */
const MAX_EXTENSIONS = 8;

export interface UnknownExtension {
  type: number;
  data: Uint8Array;
}

export interface Packet {
  type: PacketType;
  connectionId: number;
  /** Sender's clock, microseconds, wrapping at 2^32. */
  timestamp: number;
  /** Sender's clock minus our timestamp of the last packet it got from us, wrapping. */
  timestampDiff: number;
  /** Bytes the sender can still receive. */
  windowSize: number;
  seq: number;
  ack: number;
  /**
   * Selective ack bitmask (we send multiples of 4 bytes; any length is read); bit i (least significant
   * bit of each byte first) acknowledges ack + 2 + i.
   */
  selectiveAck?: Uint8Array;
  /** Extensions we do not interpret, kept so a decode re-encodes byte for byte. */
  otherExtensions?: UnknownExtension[];
  payload: Uint8Array;
}

export type DecodeResult = { ok: true; packet: Packet } | { ok: false; reason: string };

/**
 * True when `bytes` looks like uTP: version 1 in the low nibble of the first
 * byte, a known type in the high nibble, and room for a header. A bencoded
 * DHT message starts with 'd' (0x64: version 4), so never matches.
 */
export function looksLikeUtp(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER_LENGTH && (bytes[0]! & 0x0f) === UTP_VERSION && bytes[0]! >> 4 <= 4;
}

export function decodePacket(bytes: Uint8Array): DecodeResult {
  if (bytes.length < HEADER_LENGTH)
    return { ok: false, reason: `${bytes.length} bytes, less than a header` };
  const version = bytes[0]! & 0x0f;
  const type = bytes[0]! >> 4;
  if (version !== UTP_VERSION) return { ok: false, reason: `version ${version}` };
  if (type > 4) return { ok: false, reason: `type ${type}` };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const packet: Packet = {
    type: type as PacketType,
    connectionId: view.getUint16(2),
    timestamp: view.getUint32(4),
    timestampDiff: view.getUint32(8),
    windowSize: view.getUint32(12),
    seq: view.getUint16(16),
    ack: view.getUint16(18),
    payload: bytes.subarray(0, 0),
  };
  let next = bytes[1]!;
  let at = HEADER_LENGTH;
  let count = 0;
  while (next !== 0) {
    if (++count > MAX_EXTENSIONS) return { ok: false, reason: 'too many extensions' };
    if (at + 2 > bytes.length) return { ok: false, reason: 'extension header cut short' };
    const extensionType = next;
    next = bytes[at]!;
    const length = bytes[at + 1]!;
    at += 2;
    if (at + length > bytes.length) return { ok: false, reason: 'extension data cut short' };
    const data = bytes.slice(at, at + length);
    at += length;
    if (extensionType === EXTENSION_SELECTIVE_ACK) {
      // BEP 29 says a multiple of 4 bytes, but libtorrent sends masks just long
      // enough for the packets it holds (1 byte, 77 bytes...): accept any length.
      if (length === 0) return { ok: false, reason: 'empty selective ack' };
      if (packet.selectiveAck) return { ok: false, reason: 'two selective acks' };
      packet.selectiveAck = data;
    } else {
      (packet.otherExtensions ??= []).push({ type: extensionType, data });
    }
  }
  packet.payload = bytes.subarray(at);
  if (packet.payload.length > 0 && type !== PacketType.DATA) {
    // libutp and libtorrent never put a payload on anything but ST_DATA.
    return { ok: false, reason: `${PACKET_TYPE_NAMES[type]} with a payload` };
  }
  return { ok: true, packet };
}

/**
 * Encodes the header and extensions into a new buffer; the payload is
 * returned separately so it can be sent without copying (dgram takes a list).
 */
export function encodeHeader(packet: Omit<Packet, 'payload'>): Buffer {
  const extensions: UnknownExtension[] = [];
  if (packet.selectiveAck)
    extensions.push({ type: EXTENSION_SELECTIVE_ACK, data: packet.selectiveAck });
  if (packet.otherExtensions) extensions.push(...packet.otherExtensions);
  let length = HEADER_LENGTH;
  for (const extension of extensions) {
    if (extension.data.length > 255) throw new RangeError('extension longer than 255 bytes');
    length += 2 + extension.data.length;
  }
  const out = Buffer.allocUnsafe(length);
  out[0] = (packet.type << 4) | UTP_VERSION;
  out[1] = extensions[0]?.type ?? 0;
  out.writeUInt16BE(packet.connectionId & 0xffff, 2);
  out.writeUInt32BE(packet.timestamp >>> 0, 4);
  out.writeUInt32BE(packet.timestampDiff >>> 0, 8);
  out.writeUInt32BE(packet.windowSize >>> 0, 12);
  out.writeUInt16BE(packet.seq & 0xffff, 16);
  out.writeUInt16BE(packet.ack & 0xffff, 18);
  let at = HEADER_LENGTH;
  extensions.forEach((extension, i) => {
    out[at] = extensions[i + 1]?.type ?? 0;
    out[at + 1] = extension.data.length;
    out.set(extension.data, at + 2);
    at += 2 + extension.data.length;
  });
  return out;
}

/** The whole packet as one buffer (tests, and anything that is not the hot path). */
export function encodePacket(packet: Packet): Buffer {
  return Buffer.concat([encodeHeader(packet), packet.payload]);
}
