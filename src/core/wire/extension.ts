/**
 * BEP 10 extended handshake: the bencoded dictionary carried by extended
 * message id 0. Decoding goes through the guarded bencode decoder with tight
 * limits, and every field is type-checked: a field of the wrong type is
 * ignored (the peer may still be useful), only an undecodable payload or a
 * non-dictionary is an error.
 */
import {
  decodeBencode,
  encodeBencode,
  isBytes,
  isDict,
  type BencodeValue,
} from '../bencode/index.ts';
import { displayBytes } from './display.ts';
import { WireProtocolError } from './errors.ts';
import { ipv4Text, ipv6Text } from '../net/ip-text.ts';

/** Extended message id of the handshake itself. */
export const EXTENDED_HANDSHAKE_ID = 0;

export interface ExtendedHandshakeLimits {
  /** Largest handshake payload accepted (real ones are a few hundred bytes). */
  maxBytes: number;
  /** Deepest list/dictionary nesting (the handshake needs 2). */
  maxDepth: number;
  /** Most bencode tokens. */
  maxTokens: number;
}

export const defaultExtendedHandshakeLimits: Readonly<ExtendedHandshakeLimits> = {
  maxBytes: 64 * 1024,
  maxDepth: 8,
  maxTokens: 4096,
};

export interface ExtendedHandshake {
  /**
   * Extension name -> the id the peer wants us to use when sending it that
   * extension. Id 0 means the peer disables the extension (in a repeated
   * handshake); callers should treat it as unsupported.
   */
  m: Map<string, number>;
  /** Client name and version, made safe for display. */
  v?: string;
  /** The peer's listen port (1-65535). */
  p?: number;
  /** How many outstanding requests the peer queues (positive; clamp before use). */
  reqq?: number;
  /** BEP 9: size of the info dictionary in bytes (positive; cap before trusting). */
  metadataSize?: number;
  /** Our address as the peer sees it: 4 or 16 raw bytes. */
  yourIp?: Uint8Array;
  /** The peer's own addresses, if it told us. */
  ipv4?: Uint8Array;
  ipv6?: Uint8Array;
  /** BEP 21: the peer only uploads (a seed or partial seed). */
  uploadOnly?: boolean;
}

/** What we send: same fields, `m` as a Map or a plain record. */
export interface ExtendedHandshakeInput {
  m: Map<string, number> | Record<string, number>;
  v?: string;
  p?: number;
  reqq?: number;
  metadataSize?: number;
  yourIp?: Uint8Array;
  ipv4?: Uint8Array;
  ipv6?: Uint8Array;
  uploadOnly?: boolean;
}

/** Encodes the handshake dictionary (the payload after the extended id byte). */
export function encodeExtendedHandshake(h: ExtendedHandshakeInput): Uint8Array {
  const m = new Map<string, number>(h.m instanceof Map ? h.m : Object.entries(h.m));
  for (const [name, id] of m) {
    if (!isInt(id, 0, 255)) throw new RangeError(`extension ${name} has id ${id}, not 0-255`);
  }
  const dict = new Map<string, unknown>();
  dict.set('m', m);
  if (h.v !== undefined) dict.set('v', h.v);
  if (h.p !== undefined) dict.set('p', checkedInt(h.p, 1, 0xffff, 'p'));
  // The same range the decoder accepts, so any handshake it returns can be encoded again.
  if (h.reqq !== undefined)
    dict.set('reqq', checkedInt(h.reqq, 1, Number.MAX_SAFE_INTEGER, 'reqq'));
  if (h.metadataSize !== undefined) {
    dict.set('metadata_size', checkedInt(h.metadataSize, 1, Number.MAX_SAFE_INTEGER, 'size'));
  }
  if (h.yourIp !== undefined) dict.set('yourip', checkedIp(h.yourIp, [4, 16], 'yourIp'));
  if (h.ipv4 !== undefined) dict.set('ipv4', checkedIp(h.ipv4, [4], 'ipv4'));
  if (h.ipv6 !== undefined) dict.set('ipv6', checkedIp(h.ipv6, [16], 'ipv6'));
  if (h.uploadOnly !== undefined) dict.set('upload_only', h.uploadOnly ? 1 : 0);
  return encodeBencode(dict);
}

/**
 * Decodes a peer's extended handshake payload. Throws WireProtocolError
 * ('bad-extension') if it is too large, too deep, malformed or not a
 * dictionary; ignores individual fields of the wrong type or range.
 */
export function decodeExtendedHandshake(
  payload: Uint8Array,
  limits: Partial<ExtendedHandshakeLimits> = {},
): ExtendedHandshake {
  const l = { ...defaultExtendedHandshakeLimits, ...limits };
  if (payload.length > l.maxBytes) {
    throw new WireProtocolError(
      'bad-extension',
      `extended handshake is ${payload.length} bytes, limit ${l.maxBytes}`,
    );
  }
  let value: BencodeValue;
  try {
    // Trailing bytes are tolerated: they carry nothing we read.
    value = decodeBencode(payload, {
      limits: { maxDepth: l.maxDepth, maxTokens: l.maxTokens },
      allowTrailing: true,
    }).value;
  } catch (error) {
    throw new WireProtocolError(
      'bad-extension',
      `malformed extended handshake: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (!isDict(value)) {
    throw new WireProtocolError('bad-extension', 'extended handshake is not a dictionary');
  }

  const out: ExtendedHandshake = { m: new Map() };
  const m = field(value, 'm');
  if (isDict(m)) {
    for (const name of Object.keys(m)) {
      const id = m[name];
      if (isInt(id, 0, 255)) out.m.set(name, id);
    }
  }
  const v = field(value, 'v');
  if (isBytes(v)) out.v = displayBytes(v);
  const p = field(value, 'p');
  if (isInt(p, 1, 0xffff)) out.p = p;
  const reqq = field(value, 'reqq');
  if (isInt(reqq, 1, Number.MAX_SAFE_INTEGER)) out.reqq = reqq;
  const size = field(value, 'metadata_size');
  if (isInt(size, 1, Number.MAX_SAFE_INTEGER)) out.metadataSize = size;
  const yourIp = field(value, 'yourip');
  if (isBytes(yourIp) && (yourIp.length === 4 || yourIp.length === 16)) out.yourIp = yourIp;
  const ipv4 = field(value, 'ipv4');
  if (isBytes(ipv4) && ipv4.length === 4) out.ipv4 = ipv4;
  const ipv6 = field(value, 'ipv6');
  if (isBytes(ipv6) && ipv6.length === 16) out.ipv6 = ipv6;
  const uploadOnly = field(value, 'upload_only');
  if (typeof uploadOnly === 'number') out.uploadOnly = uploadOnly !== 0;
  return out;
}

/** Formats 4 or 16 address bytes (e.g. `yourIp`) for display and comparison. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return ipv4Text(bytes);
  if (bytes.length !== 16)
    throw new RangeError(`an IP address is 4 or 16 bytes, not ${bytes.length}`);
  return ipv6Text(bytes);
}

/** Own properties only: a decoded dictionary is a plain object. */
function field(dict: Record<string, BencodeValue>, key: string): BencodeValue | undefined {
  return Object.hasOwn(dict, key) ? dict[key] : undefined;
}

function isInt(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

function checkedInt(value: number, min: number, max: number, name: string): number {
  if (!isInt(value, min, max)) throw new RangeError(`${name} out of range: ${value}`);
  return value;
}

function checkedIp(value: Uint8Array, lengths: number[], name: string): Uint8Array {
  if (!lengths.includes(value.length)) {
    throw new RangeError(`${name} must be ${lengths.join(' or ')} bytes`);
  }
  return value;
}
