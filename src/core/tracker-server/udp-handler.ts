/**
 * The UDP front end (BEP 15). Connect requests get a keyed-hash connection id
 * (connection-ids.ts); announces and scrapes are answered only when they carry
 * a valid id for their source address, so a spoofed source never gets a
 * reply. Junk and bad ids are dropped silently (and counted); a request
 * with a valid id but a bad body, or an unlisted info-hash, gets the error
 * action with a reason.
 */
import type { RemoteInfo } from 'node:dgram';
import type { ConnectionIds } from './connection-ids.ts';
import { compactAddress } from './peer-address.ts';
import type { TrackerService } from './tracker-service.ts';
import {
  encodeAnnounceResponse,
  encodeConnectResponse,
  encodeErrorResponse,
  encodeScrapeResponse,
  parseUdpRequest,
} from './udp-request.ts';

/** Peers per UDP answer, so it stays within one unfragmented datagram (1500-byte MTU). */
const MAX_UDP_PEERS = { v4: 200, v6: 70 } as const;

export function answerUdp(
  service: TrackerService,
  ids: ConnectionIds,
  datagram: Buffer,
  from: RemoteInfo,
  now: number,
): Buffer | null {
  const request = parseUdpRequest(datagram);
  if (request === null) {
    service.counters.malformed++;
    return null;
  }
  if (request.action === 'connect')
    return encodeConnectResponse(request.transactionId, ids.issue(from.address, from.port, now));
  if (!ids.check(request.connectionId, from.address, from.port, now)) {
    service.counters.malformed++;
    return null;
  }
  if (request.action === 'malformed') {
    service.counters.malformed++;
    return encodeErrorResponse(request.transactionId, request.reason);
  }
  if (request.action === 'scrape')
    return encodeScrapeResponse(request.transactionId, service.scrape(request.infoHashes));

  // Port 0 means "the port this datagram came from" in some clients.
  const address = compactAddress(from.address, request.port || from.port);
  if (address === null) return encodeErrorResponse(request.transactionId, 'bad address');
  const ipv6 = address.length === 18;
  const limit = ipv6 ? MAX_UDP_PEERS.v6 : MAX_UDP_PEERS.v4;
  const answer = service.announce({
    infoHash: request.infoHash,
    peerId: request.peerId,
    address,
    left: request.left,
    event: request.event,
    numWant: request.numWant < 0 ? undefined : Math.min(request.numWant, limit),
    families: ipv6 ? 'v6' : 'v4',
  });
  if (!answer.ok) return encodeErrorResponse(request.transactionId, answer.reason);
  return encodeAnnounceResponse(
    request.transactionId,
    { intervalSec: service.config.intervalSec, ...answer },
    ipv6,
  );
}
