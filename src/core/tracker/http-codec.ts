/**
 * BEP 3 / 23 / 7 / 48 HTTP tracker codec: builds announce and scrape URLs and
 * parses bencoded responses. Pure functions, no I/O. The parsers throw only
 * TrackerError (code 'bad-response', or 'failure' for a tracker's refusal).
 */
import type { PeerAddress } from '../net/peer-address.ts';
import {
  BencodeError,
  decodeBencode,
  isBytes,
  isDict,
  type BencodeDict,
} from '../bencode/index.ts';
import type { BencodeValue } from '../bencode/index.ts';
import { TrackerError } from './errors.ts';
import {
  MAX_PEERS_PER_RESPONSE,
  dedupePeers,
  parseCompactPeers4,
  parseCompactPeers6,
} from '../net/compact-peers.ts';
import { validatePeer } from '../net/peer-address.ts';
import type { AnnounceParams, AnnounceResponse, ScrapeResult } from './types.ts';

/**
 * Tracker responses are small and shallow (a dictionary-model peer list is
 * depth 3), so the limits are far tighter than for .torrent files.
 */
const responseLimits = { maxDepth: 8, maxTokens: 200_000 };

/** Longest tracker-supplied text kept (failure reason, warning); the rest is cut. */
const MAX_MESSAGE_CHARS = 512;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).toUpperCase().padStart(2, '0'));

/** Percent-encodes raw bytes; only RFC 3986 unreserved characters stay literal. */
export function percentEncodeBytes(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    const unreserved =
      (b >= 0x30 && b <= 0x39) ||
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f ||
      b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : `%${HEX[b]}`;
  }
  return out;
}

/** A non-negative integer as decimal text; never exponent notation. */
function count(value: number): string {
  if (!Number.isFinite(value) || value <= 0) return '0';
  return BigInt(Math.floor(value)).toString();
}

function requireLength(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) {
    throw new RangeError(`${name} must be ${length} bytes, got ${bytes.length}`);
  }
}

/**
 * Checks an http(s) announce URL and returns it without its fragment. The
 * existing query string is kept byte for byte (private trackers put passkeys
 * there), which is why the URL is not rebuilt through URLSearchParams.
 */
function httpBase(url: string): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.slice(0, hash) : url;
  let parsed: URL;
  try {
    parsed = new URL(base);
  } catch (error) {
    throw new TrackerError('bad-url', `not a valid URL: ${url}`, { cause: error });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TrackerError('bad-url', `not an http(s) tracker URL: ${url}`);
  }
  return base;
}

function appendQuery(base: string, query: string): string {
  if (!base.includes('?')) return `${base}?${query}`;
  return base.endsWith('?') || base.endsWith('&') ? base + query : `${base}&${query}`;
}

/**
 * Builds the announce GET URL. Throws RangeError for a wrong-sized info-hash
 * or peer id (a caller bug) and TrackerError 'bad-url' for an unusable URL.
 */
export function buildAnnounceUrl(announceUrl: string, params: AnnounceParams): string {
  requireLength('info-hash', params.infoHash, 20);
  requireLength('peer id', params.peerId, 20);
  const base = httpBase(announceUrl);
  const parts = [
    `info_hash=${percentEncodeBytes(params.infoHash)}`,
    `peer_id=${percentEncodeBytes(params.peerId)}`,
    `port=${count(params.port)}`,
    `uploaded=${count(params.uploaded)}`,
    `downloaded=${count(params.downloaded)}`,
    `left=${count(params.left)}`,
    'compact=1',
    'no_peer_id=1',
  ];
  if (params.event) parts.push(`event=${params.event}`);
  if (params.numWant !== undefined) parts.push(`numwant=${count(params.numWant)}`);
  if (params.key !== undefined) {
    parts.push(`key=${(params.key >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
  }
  if (params.trackerId !== undefined) {
    parts.push(`trackerid=${percentEncodeBytes(params.trackerId)}`);
  }
  if (params.ipv6 !== undefined) {
    const ipv6 = validatePeer(params.ipv6, 1);
    if (!ipv6 || !ipv6.host.includes(':'))
      throw new RangeError(`not an IPv6 address: ${params.ipv6}`);
    parts.push(`ipv6=${percentEncodeBytes(new TextEncoder().encode(ipv6.host))}`);
  }
  return appendQuery(base, parts.join('&'));
}

/**
 * BEP 48 convention: the scrape URL is the announce URL with the last path
 * component's leading "announce" replaced by "scrape". Null when the tracker
 * does not follow it (then it does not support scrape).
 */
export function scrapeUrlFor(announceUrl: string): string | null {
  let base: string;
  try {
    base = httpBase(announceUrl);
  } catch {
    return null;
  }
  const query = base.indexOf('?');
  const path = query >= 0 ? base.slice(0, query) : base;
  const slash = path.lastIndexOf('/');
  if (slash < 0 || !path.startsWith('announce', slash + 1)) return null;
  return `${path.slice(0, slash + 1)}scrape${base.slice(slash + 1 + 'announce'.length)}`;
}

export function buildScrapeUrl(scrapeUrl: string, infoHashes: readonly Uint8Array[]): string {
  for (const hash of infoHashes) requireLength('info-hash', hash, 20);
  const base = httpBase(scrapeUrl);
  return appendQuery(base, infoHashes.map((h) => `info_hash=${percentEncodeBytes(h)}`).join('&'));
}

function bad(message: string, cause?: unknown): TrackerError {
  return new TrackerError('bad-response', message, { cause });
}

/** Tracker text for humans: UTF-8 (lossy), control characters replaced, length capped. */
export function trackerText(bytes: Uint8Array): string {
  // One character more than kept (at most 4 bytes each), so a text this function cut (its
  // '…' included) reads back unchanged.
  const text = new TextDecoder('utf-8', { fatal: false })
    .decode(bytes.subarray(0, (MAX_MESSAGE_CHARS + 1) * 4))
    // Escape sequences from a tracker must not reach the user's terminal.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .trim();
  // Cut by code points: cutting UTF-16 units could split a surrogate pair.
  const chars = Array.from(text);
  return chars.length > MAX_MESSAGE_CHARS ? `${chars.slice(0, MAX_MESSAGE_CHARS).join('')}…` : text;
}

function decodeDict(body: Uint8Array): BencodeDict {
  let value: BencodeValue;
  try {
    value = decodeBencode(body, { limits: responseLimits }).value;
  } catch (error) {
    if (error instanceof BencodeError)
      throw bad(`malformed tracker response: ${error.message}`, error);
    throw bad('malformed tracker response', error);
  }
  if (!isDict(value)) throw bad('tracker response is not a dictionary');
  return value;
}

/** A non-negative integer field; anything else (missing, negative, wrong type) is undefined. */
function optionalCount(dict: BencodeDict, key: string): number | undefined {
  const value = dict[key];
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function dictionaryPeers(list: BencodeValue[]): PeerAddress[] {
  const peers: PeerAddress[] = [];
  for (const item of list) {
    if (peers.length >= MAX_PEERS_PER_RESPONSE) break;
    if (!isDict(item)) continue;
    const ip = item['ip'];
    const port = item['port'];
    if (!isBytes(ip) || typeof port !== 'number' || ip.length > 64) continue;
    const peer = validatePeer(new TextDecoder('latin1').decode(ip), port);
    if (peer) peers.push(peer);
  }
  return peers;
}

/** Throws TrackerError 'failure' when the response carries a `failure reason`. */
function checkFailure(dict: BencodeDict): void {
  const failure = dict['failure reason'];
  if (failure === undefined) return;
  const reason = isBytes(failure) ? trackerText(failure) : '';
  const retryIn = optionalCount(dict, 'retry in');
  throw new TrackerError('failure', `tracker refused: ${reason || '(no reason given)'}`, {
    retryInSec: retryIn,
  });
}

/** Parses an announce response body. */
export function parseAnnounceResponse(body: Uint8Array): AnnounceResponse {
  const dict = decodeDict(body);
  checkFailure(dict);

  let peers: PeerAddress[] = [];
  const rawPeers = dict['peers'];
  if (isBytes(rawPeers)) peers = parseCompactPeers4(rawPeers);
  else if (Array.isArray(rawPeers)) peers = dictionaryPeers(rawPeers);
  else if (rawPeers !== undefined) throw bad('`peers` is neither a byte string nor a list');
  const rawPeers6 = dict['peers6'];
  if (isBytes(rawPeers6)) {
    peers = peers.concat(parseCompactPeers6(rawPeers6, 0, MAX_PEERS_PER_RESPONSE - peers.length));
  } else if (rawPeers6 !== undefined) {
    throw bad('`peers6` is not a byte string');
  }
  // A body with neither peers nor an interval is not an announce response.
  if (rawPeers === undefined && rawPeers6 === undefined && dict['interval'] === undefined) {
    throw bad('tracker response has no peers and no interval');
  }

  const warning = dict['warning message'];
  const trackerId = dict['tracker id'];
  return {
    interval: optionalCount(dict, 'interval'),
    minInterval: optionalCount(dict, 'min interval'),
    seeders: optionalCount(dict, 'complete'),
    leechers: optionalCount(dict, 'incomplete'),
    warning: isBytes(warning) ? trackerText(warning) || undefined : undefined,
    trackerId:
      isBytes(trackerId) && trackerId.length > 0 && trackerId.length <= 256
        ? Uint8Array.from(trackerId)
        : undefined,
    peers: dedupePeers(peers),
  };
}

/**
 * The dictionary key the bencode package gives a byte-string key: its UTF-8
 * text, or lower-case hex when the bytes are not valid UTF-8.
 */
function dictKeyFor(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes);
  return text.includes('\uFFFD') ? Buffer.from(bytes).toString('hex') : text;
}

/** Parses a scrape response for the info-hashes asked about (others are ignored). */
export function parseScrapeResponse(
  body: Uint8Array,
  infoHashes: readonly Uint8Array[],
): ScrapeResult {
  const dict = decodeDict(body);
  checkFailure(dict);
  const files = dict['files'];
  if (!isDict(files)) throw bad('scrape response has no `files` dictionary');
  const result: ScrapeResult = new Map();
  for (const hash of infoHashes) {
    const entry = files[dictKeyFor(hash)];
    if (!isDict(entry)) continue;
    result.set(Buffer.from(hash).toString('hex'), {
      seeders: optionalCount(entry, 'complete') ?? 0,
      completed: optionalCount(entry, 'downloaded') ?? 0,
      leechers: optionalCount(entry, 'incomplete') ?? 0,
    });
  }
  return result;
}
