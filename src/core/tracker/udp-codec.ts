/**
 * BEP 15 UDP tracker codec: request encoding and response parsing. Pure
 * functions, no I/O. Parsers throw only TrackerError ('bad-response', or
 * 'failure' for an error action).
 */
import { TrackerError } from './errors.ts';
import { trackerText } from './http-codec.ts';
import { dedupePeers, parseCompactPeers4, parseCompactPeers6 } from '../net/compact-peers.ts';
import type { AnnounceEvent, AnnounceParams, AnnounceResponse, ScrapeResult } from './types.ts';

export const UdpAction = { connect: 0, announce: 1, scrape: 2, error: 3 } as const;
export type UdpActionValue = (typeof UdpAction)[keyof typeof UdpAction];

/** The magic constant a connect request starts with. */
export const UDP_PROTOCOL_ID = 0x41727101980n;

/** BEP 15 limits a scrape to about 74 info-hashes so the reply fits one packet. */
export const MAX_UDP_SCRAPE_HASHES = 74;

const EVENT_CODES: Record<AnnounceEvent, number> = { completed: 1, started: 2, stopped: 3 };

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(value: number): bigint {
  if (!Number.isFinite(value) || value <= 0) return 0n;
  const big = BigInt(Math.floor(value));
  return big > 0xffff_ffff_ffff_ffffn ? 0xffff_ffff_ffff_ffffn : big;
}

function requireLength(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${bytes.length}`);
  }
}

export function encodeConnectRequest(transactionId: number): Uint8Array {
  const out = new Uint8Array(16);
  const dv = view(out);
  dv.setBigUint64(0, UDP_PROTOCOL_ID);
  dv.setUint32(8, UdpAction.connect);
  dv.setUint32(12, transactionId >>> 0);
  return out;
}

/** The 98-byte announce request (no BEP 41 options). */
export function encodeAnnounceRequest(
  connectionId: bigint,
  transactionId: number,
  params: AnnounceParams,
): Uint8Array {
  requireLength('info-hash', params.infoHash, 20);
  requireLength('peer id', params.peerId, 20);
  const out = new Uint8Array(98);
  const dv = view(out);
  dv.setBigUint64(0, BigInt.asUintN(64, connectionId));
  dv.setUint32(8, UdpAction.announce);
  dv.setUint32(12, transactionId >>> 0);
  out.set(params.infoHash, 16);
  out.set(params.peerId, 36);
  dv.setBigUint64(56, u64(params.downloaded));
  dv.setBigUint64(64, u64(params.left));
  dv.setBigUint64(72, u64(params.uploaded));
  dv.setUint32(80, params.event ? EVENT_CODES[params.event] : 0);
  dv.setUint32(84, 0); // IP address: 0 = the sender's
  dv.setUint32(88, (params.key ?? 0) >>> 0);
  const numWant = params.numWant;
  dv.setInt32(92, numWant === undefined || !(numWant >= 0) ? -1 : Math.min(numWant, 0x7fff_ffff));
  dv.setUint16(96, params.port & 0xffff);
  return out;
}

export function encodeScrapeRequest(
  connectionId: bigint,
  transactionId: number,
  infoHashes: readonly Uint8Array[],
): Uint8Array {
  if (infoHashes.length === 0 || infoHashes.length > MAX_UDP_SCRAPE_HASHES) {
    throw new RangeError(`a UDP scrape takes 1 to ${MAX_UDP_SCRAPE_HASHES} info-hashes`);
  }
  const out = new Uint8Array(16 + 20 * infoHashes.length);
  const dv = view(out);
  dv.setBigUint64(0, BigInt.asUintN(64, connectionId));
  dv.setUint32(8, UdpAction.scrape);
  dv.setUint32(12, transactionId >>> 0);
  infoHashes.forEach((hash, i) => {
    requireLength('info-hash', hash, 20);
    out.set(hash, 16 + 20 * i);
  });
  return out;
}

/**
 * The transaction id of a response, or undefined when the datagram is too
 * short to have one. The client uses it to ignore stray or stale datagrams
 * before parsing them.
 */
export function peekTransactionId(datagram: Uint8Array): number | undefined {
  return datagram.length >= 8 ? view(datagram).getUint32(4) : undefined;
}

function bad(message: string): TrackerError {
  return new TrackerError('bad-response', message);
}

/**
 * Checks the header against the request and turns an error action into a
 * TrackerError 'failure'. Returns the DataView for the body.
 */
function checkHeader(
  datagram: Uint8Array,
  action: UdpActionValue,
  transactionId: number,
  minLength: number,
): DataView {
  if (datagram.length < 8) throw bad(`UDP tracker response too short (${datagram.length} bytes)`);
  const dv = view(datagram);
  const got = dv.getUint32(0);
  if (dv.getUint32(4) !== transactionId >>> 0) throw bad('UDP tracker transaction id mismatch');
  if (got === UdpAction.error) {
    const reason = trackerText(datagram.subarray(8));
    throw new TrackerError('failure', `tracker refused: ${reason || '(no reason given)'}`);
  }
  if (got !== action) throw bad(`UDP tracker answered action ${got} to action ${action}`);
  if (datagram.length < minLength) {
    throw bad(`UDP tracker response too short (${datagram.length} bytes)`);
  }
  return dv;
}

/** Returns the connection id. */
export function parseConnectResponse(datagram: Uint8Array, transactionId: number): bigint {
  const dv = checkHeader(datagram, UdpAction.connect, transactionId, 16);
  return dv.getBigUint64(8);
}

/**
 * Parses an announce response. Peers are 6-byte IPv4 entries, or 18-byte
 * IPv6 entries when the tracker was reached over IPv6 (BEP 15: the address
 * family of the request decides).
 */
export function parseAnnounceResponse(
  datagram: Uint8Array,
  transactionId: number,
  ipv6: boolean,
): AnnounceResponse {
  if (datagram.length === 8) {
    checkHeader(datagram, UdpAction.announce, transactionId, 8);
    // opentracker answers an info-hash outside its whitelist with a bare header.
    throw new TrackerError(
      'failure',
      'tracker refused the announce without a reason (unknown torrent?)',
    );
  }
  const dv = checkHeader(datagram, UdpAction.announce, transactionId, 20);
  const peers = ipv6 ? parseCompactPeers6(datagram, 20) : parseCompactPeers4(datagram, 20);
  // The fields are unsigned 32-bit; values above 2^31 are nonsense from a
  // broken tracker, so they are treated as absent rather than trusted.
  const field = (offset: number): number | undefined => {
    const value = dv.getUint32(offset);
    return value <= 0x7fff_ffff ? value : undefined;
  };
  return {
    interval: field(8),
    minInterval: undefined,
    leechers: field(12),
    seeders: field(16),
    warning: undefined,
    trackerId: undefined,
    peers: dedupePeers(peers),
  };
}

export function parseScrapeResponse(
  datagram: Uint8Array,
  transactionId: number,
  infoHashes: readonly Uint8Array[],
): ScrapeResult {
  const dv = checkHeader(datagram, UdpAction.scrape, transactionId, 8);
  const result: ScrapeResult = new Map();
  infoHashes.forEach((hash, i) => {
    const at = 8 + 12 * i;
    if (at + 12 > datagram.length) return;
    result.set(Buffer.from(hash).toString('hex'), {
      seeders: dv.getUint32(at),
      completed: dv.getUint32(at + 4),
      leechers: dv.getUint32(at + 8),
    });
  });
  return result;
}
