/**
 * The HTTP front end: GET /announce, GET /scrape (BEP 48) and GET /stats
 * (JSON counts). Everything else is 404. Refusals and malformed requests get
 * a 200 with a bencoded `failure reason` (what BitTorrent clients read);
 * requests that are not trackers' business get plain HTTP errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { compactAddress } from './peer-address.ts';
import {
  BadRequest,
  MAX_QUERY_LENGTH,
  parseAnnounceQuery,
  parseScrapeQuery,
} from './http-request.ts';
import { encodeAnnounce, encodeFailure, encodeScrape } from './http-response.ts';
import type { TrackerService } from './tracker-service.ts';

/** The longest request line accepted: path plus the query limit plus slack. */
const MAX_URL_LENGTH = MAX_QUERY_LENGTH + 256;

function send(res: ServerResponse, status: number, type: string, body: Buffer | string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
  });
  res.end(body);
}

function bencoded(res: ServerResponse, body: Buffer): void {
  send(res, 200, 'text/plain', body);
}

export function trackerHttpHandler(
  service: TrackerService,
  stats: () => object,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = req.url ?? '/';
    if (url.length > MAX_URL_LENGTH) {
      service.counters.malformed++;
      send(res, 414, 'text/plain', 'request line too long\n');
      return;
    }
    if (req.method !== 'GET') {
      send(res, 405, 'text/plain', 'only GET\n');
      return;
    }
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? '' : url.slice(q + 1);
    try {
      if (path === '/announce') announce(service, req, res, query);
      else if (path === '/scrape') {
        const hashes = parseScrapeQuery(query);
        bencoded(
          res,
          encodeScrape(
            service.scrape(hashes).map((counts, i) => ({ infoHash: hashes[i]!, counts })),
            service.minIntervalSec,
          ),
        );
      } else if (path === '/stats')
        send(res, 200, 'application/json', `${JSON.stringify(stats())}\n`);
      else
        send(
          res,
          404,
          'text/plain',
          'not found: this tracker serves /announce, /scrape and /stats\n',
        );
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      service.counters.malformed++;
      bencoded(res, encodeFailure(`bad request: ${error.message}`));
    }
  };
}

function announce(
  service: TrackerService,
  req: IncomingMessage,
  res: ServerResponse,
  query: string,
): void {
  const request = parseAnnounceQuery(query);
  const address = compactAddress(req.socket.remoteAddress ?? '', request.port);
  if (address === null) throw new BadRequest('cannot tell your address');
  const answer = service.announce({
    infoHash: request.infoHash,
    peerId: request.peerId,
    address,
    left: request.left,
    event: request.event,
    numWant: request.numWant,
    families: 'both',
  });
  if (!answer.ok) {
    bencoded(res, encodeFailure(answer.reason, service.config.intervalSec));
    return;
  }
  bencoded(
    res,
    encodeAnnounce({
      intervalSec: service.config.intervalSec,
      minIntervalSec: service.minIntervalSec,
      seeders: answer.seeders,
      leechers: answer.leechers,
      peers: answer.peers,
      compact: request.compact,
      noPeerId: request.noPeerId,
      warning: answer.warning,
    }),
  );
}
