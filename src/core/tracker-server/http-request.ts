/**
 * Server side of the BEP 3 / 23 / 48 HTTP tracker: parses the query string of
 * an announce or scrape request. Pure; everything a client sends is hostile
 * input, so every field is checked and any problem becomes a one-line reason
 * the client gets back as `failure reason`.
 *
 * Binary fields (info_hash, peer_id) are percent-encoded raw bytes, which
 * URLSearchParams would mangle (it decodes as UTF-8), hence the byte decoder.
 */
import type { AnnounceEvent } from './swarm-registry.ts';

export interface HttpAnnounceRequest {
  /** 20 bytes as latin1. */
  infoHash: string;
  /** 20 bytes as latin1. */
  peerId: string;
  port: number;
  left: number;
  event: AnnounceEvent;
  /** Undefined when the client did not say. */
  numWant: number | undefined;
  /** BEP 23: compact unless the client sends compact=0. */
  compact: boolean;
  noPeerId: boolean;
}

/** Most info-hashes one HTTP scrape may ask about. */
export const MAX_HTTP_SCRAPE_HASHES = 100;
/**
 * Longest query string looked at: announces are about 300 characters, a
 * scrape of 100 percent-encoded info-hashes about 7 100.
 */
export const MAX_QUERY_LENGTH = 7500;

export class BadRequest extends Error {}

/** Percent-decodes to raw bytes (as latin1); `+` stays `+` (trackers never send spaces). */
function decodeBytes(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new BadRequest('malformed percent-encoding');
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (c > 0x7e || c < 0x21) {
      throw new BadRequest('unencoded byte in query string');
    } else {
      out += text[i];
    }
  }
  return out;
}

/** Splits a query string into raw-byte values, keeping repeated keys (scrape sends several info_hash). */
export function parseQuery(query: string): Map<string, string[]> {
  if (query.length > MAX_QUERY_LENGTH) throw new BadRequest('query string too long');
  const params = new Map<string, string[]>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeBytes(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : decodeBytes(part.slice(eq + 1));
    const list = params.get(key);
    if (list) list.push(value);
    else params.set(key, [value]);
  }
  return params;
}

function single(params: Map<string, string[]>, key: string): string | undefined {
  const values = params.get(key);
  if (values && values.length > 1) throw new BadRequest(`${key} given more than once`);
  return values?.[0];
}

function bytes20(params: Map<string, string[]>, key: string): string {
  const value = single(params, key);
  if (value === undefined) throw new BadRequest(`missing ${key}`);
  if (value.length !== 20) throw new BadRequest(`${key} must be 20 bytes`);
  return value;
}

/** A decimal integer from 0 to 2^53-1; clients send sizes up to petabytes. */
function integer(params: Map<string, string[]>, key: string): number | undefined {
  const value = single(params, key);
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value)) throw new BadRequest(`${key} is not a non-negative integer`);
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new BadRequest(`${key} is too large`);
  return number;
}

const EVENTS: Record<string, AnnounceEvent> = {
  '': undefined,
  empty: undefined,
  started: 'started',
  completed: 'completed',
  stopped: 'stopped',
  paused: undefined,
};

export function parseAnnounceQuery(query: string): HttpAnnounceRequest {
  const params = parseQuery(query);
  const port = integer(params, 'port');
  if (port === undefined || port < 1 || port > 65535)
    throw new BadRequest('port must be 1 to 65535');
  const eventText = single(params, 'event') ?? '';
  if (!Object.hasOwn(EVENTS, eventText)) throw new BadRequest('unknown event');
  const left = integer(params, 'left');
  // A client that omits `left` is counted as a leecher, as opentracker does.
  return {
    infoHash: bytes20(params, 'info_hash'),
    peerId: bytes20(params, 'peer_id'),
    port,
    left: left ?? 1,
    event: EVENTS[eventText],
    numWant: integer(params, 'numwant'),
    compact: single(params, 'compact') !== '0',
    noPeerId: single(params, 'no_peer_id') === '1',
  };
}

/** The info-hashes of a scrape request (BEP 48); at least one is required. */
export function parseScrapeQuery(query: string): string[] {
  const hashes = parseQuery(query).get('info_hash') ?? [];
  // A scrape of everything would answer with the whole registry: refused.
  if (hashes.length === 0) throw new BadRequest('scrape needs at least one info_hash');
  if (hashes.length > MAX_HTTP_SCRAPE_HASHES)
    throw new BadRequest(`at most ${MAX_HTTP_SCRAPE_HASHES} info_hash per scrape`);
  for (const hash of hashes)
    if (hash.length !== 20) throw new BadRequest('info_hash must be 20 bytes');
  return [...new Set(hashes)];
}
