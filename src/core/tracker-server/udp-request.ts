/**
 * Server side of BEP 15: parses connect / announce / scrape datagrams and
 * encodes the answers. Pure. A datagram that is not a request at all (too
 * short, unknown action, connect without the magic constant) parses to null
 * and is never answered: answering junk would make the tracker a reflector.
 */
import { UDP_PROTOCOL_ID, UdpAction } from '../tracker/udp-codec.ts';
import type { AnnounceEvent, ScrapeCounts, StoredPeer } from './swarm-registry.ts';
import { compactPeers } from './http-response.ts';

/** BEP 15's announce is 98 bytes; BEP 41 options may follow (ignored here). */
export const UDP_ANNOUNCE_LENGTH = 98;
/** Most info-hashes one UDP scrape may carry (its answer must fit one datagram). */
export const MAX_UDP_SCRAPE = 74;

export type UdpRequest =
  | { action: 'connect'; transactionId: number }
  | {
      action: 'announce';
      connectionId: bigint;
      transactionId: number;
      infoHash: string;
      peerId: string;
      left: number;
      event: AnnounceEvent;
      /** -1 (or any negative) means "tracker default". */
      numWant: number;
      port: number;
    }
  | { action: 'scrape'; connectionId: bigint; transactionId: number; infoHashes: string[] }
  /** Well-formed header but a malformed body: answered with an error action. */
  | { action: 'malformed'; connectionId: bigint; transactionId: number; reason: string };

/** BEP 15 event codes 0 to 3; anything else is malformed. */
const EVENTS: AnnounceEvent[] = [undefined, 'completed', 'started', 'stopped'];

export function parseUdpRequest(datagram: Buffer): UdpRequest | null {
  if (datagram.length < 16) return null;
  const connectionId = datagram.readBigUInt64BE(0);
  const action = datagram.readUInt32BE(8);
  const transactionId = datagram.readUInt32BE(12);
  if (action === UdpAction.connect) {
    return connectionId === UDP_PROTOCOL_ID ? { action: 'connect', transactionId } : null;
  }
  const malformed = (reason: string): UdpRequest => ({
    action: 'malformed',
    connectionId,
    transactionId,
    reason,
  });
  if (action === UdpAction.announce) {
    if (datagram.length < UDP_ANNOUNCE_LENGTH) return malformed('announce too short');
    const eventCode = datagram.readUInt32BE(80);
    if (eventCode >= EVENTS.length) return malformed('unknown event');
    const left = datagram.readBigUInt64BE(64);
    return {
      action: 'announce',
      connectionId,
      transactionId,
      infoHash: datagram.toString('latin1', 16, 36),
      peerId: datagram.toString('latin1', 36, 56),
      left: left > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(left),
      event: EVENTS[eventCode],
      numWant: datagram.readInt32BE(92),
      port: datagram.readUInt16BE(96),
    };
  }
  if (action === UdpAction.scrape) {
    const body = datagram.length - 16;
    if (body === 0 || body % 20 !== 0) return malformed('scrape length is not 16 + 20 n');
    if (body / 20 > MAX_UDP_SCRAPE) return malformed(`at most ${MAX_UDP_SCRAPE} hashes per scrape`);
    const infoHashes: string[] = [];
    for (let at = 16; at < datagram.length; at += 20)
      infoHashes.push(datagram.toString('latin1', at, at + 20));
    return { action: 'scrape', connectionId, transactionId, infoHashes };
  }
  return null;
}

function header(action: number, transactionId: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  out.writeUInt32BE(action, 0);
  out.writeUInt32BE(transactionId >>> 0, 4);
  return out;
}

export function encodeConnectResponse(transactionId: number, connectionId: bigint): Buffer {
  const out = header(UdpAction.connect, transactionId, 16);
  out.writeBigUInt64BE(connectionId, 8);
  return out;
}

/** Peers of the request's own family only (BEP 15: the socket's family decides the entry size). */
export function encodeAnnounceResponse(
  transactionId: number,
  answer: { intervalSec: number; seeders: number; leechers: number; peers: StoredPeer[] },
  ipv6: boolean,
): Buffer {
  const peers = compactPeers(answer.peers, ipv6 ? 18 : 6);
  const out = header(UdpAction.announce, transactionId, 20 + peers.length);
  out.writeUInt32BE(answer.intervalSec, 8);
  out.writeUInt32BE(Math.min(answer.leechers, 0xffff_ffff), 12);
  out.writeUInt32BE(Math.min(answer.seeders, 0xffff_ffff), 16);
  peers.copy(out, 20);
  return out;
}

export function encodeScrapeResponse(transactionId: number, counts: ScrapeCounts[]): Buffer {
  const out = header(UdpAction.scrape, transactionId, 8 + 12 * counts.length);
  counts.forEach((c, i) => {
    out.writeUInt32BE(Math.min(c.seeders, 0xffff_ffff), 8 + 12 * i);
    out.writeUInt32BE(Math.min(c.completed, 0xffff_ffff), 12 + 12 * i);
    out.writeUInt32BE(Math.min(c.leechers, 0xffff_ffff), 16 + 12 * i);
  });
  return out;
}

export function encodeErrorResponse(transactionId: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8');
  const out = header(UdpAction.error, transactionId, 8 + text.length);
  text.copy(out, 8);
  return out;
}
