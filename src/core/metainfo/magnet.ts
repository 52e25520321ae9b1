/**
 * Magnet links (BEP 9, BEP 52 `btmh`, BEP 53 `so`) and bare info-hashes.
 * Both come from the command line or the web, so everything is validated and
 * every failure is an InputError.
 */
import { sameBytes } from '../bytes.ts';
import { InputError } from '../errors.ts';
import { parseHostPortText } from '../net/peer-address.ts';
import { toHex } from './text.ts';
import type { Metainfo } from './types.ts';

export interface MagnetPeer {
  host: string;
  port: number;
}

export interface MagnetLink {
  /** v1 info-hash (20 bytes), from `xt=urn:btih:`. */
  infoHash: Uint8Array | null;
  /** v2 info-hash (32 bytes), from `xt=urn:btmh:1220…`. */
  infoHashV2: Uint8Array | null;
  /** `dn`: a display name only; the real name comes with the metadata. */
  name: string | null;
  /** `tr`: each tracker is its own tier (a magnet cannot express tiers). */
  trackers: string[][];
  /** `ws` web seeds. */
  webSeeds: string[];
  /** `x.pe` peers to dial directly. */
  peers: MagnetPeer[];
  /** BEP 53 `so`: file indexes to download (sorted, unique), or null for all. */
  selectOnly: number[] | null;
}

export interface MagnetSource {
  infoHash: Uint8Array | null;
  infoHashV2: Uint8Array | null;
  name?: string | null;
  trackers?: string[][];
  webSeeds?: string[];
}

/** Most file indexes a `so` parameter may select (ranges expand). */
export const MAX_SELECT_INDEXES = 1_000_000;

function fail(message: string): never {
  throw new InputError(`invalid magnet link: ${message}`);
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const char of text.toUpperCase()) {
    const digit = BASE32.indexOf(char);
    if (digit === -1) throw new InputError(`invalid base32 character '${char}'`);
    value = (value << 5) | digit;
    bits += 5;
    if (bits >= 8) {
      out[index++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  return out;
}

function hexDecode(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** A v1 hash as 40 hex or 32 base32 characters, or null when it is neither. */
function parseV1Hash(text: string): Uint8Array | null {
  if (/^[0-9a-f]{40}$/i.test(text)) return hexDecode(text);
  if (/^[a-z2-7]{32}$/i.test(text)) return base32Decode(text);
  return null;
}

function decodeParam(text: string, plusIsSpace: boolean): string {
  try {
    return decodeURIComponent(plusIsSpace ? text.replace(/\+/g, ' ') : text);
  } catch {
    fail(`bad percent-encoding in '${text.slice(0, 40)}'`);
  }
}

/** `host:port` or `[v6]:port`; IP literals are checked and made canonical (net/peer-address.ts). */
function parsePeer(text: string): MagnetPeer {
  const parsed = parseHostPortText(text);
  if (!parsed.ok) fail(`x.pe '${text.slice(0, 60)}' is not host:port: ${parsed.reason}`);
  return { host: parsed.host, port: parsed.port };
}

/** BEP 53: `0,2,4-6` -> [0, 2, 4, 5, 6]. */
function parseSelectOnly(text: string): number[] {
  const indexes = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(part.trim());
    if (!match) fail(`so '${text.slice(0, 60)}' is not a list of file indexes`);
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from) fail(`so range '${part}' is backwards`);
    if (indexes.size + (to - from + 1) > MAX_SELECT_INDEXES) {
      fail(`so selects more than ${MAX_SELECT_INDEXES} files`);
    }
    for (let i = from; i <= to; i++) indexes.add(i);
  }
  return [...indexes].sort((a, b) => a - b);
}

/** Parses `magnet:?xt=…`; throws InputError when it names no valid info-hash or is malformed. */
export function parseMagnet(uri: string): MagnetLink {
  const trimmed = uri.trim();
  if (!/^magnet:\?/i.test(trimmed)) fail("it does not start with 'magnet:?'");
  const link: MagnetLink = {
    infoHash: null,
    infoHashV2: null,
    name: null,
    trackers: [],
    webSeeds: [],
    peers: [],
    selectOnly: null,
  };
  const setHash = (field: 'infoHash' | 'infoHashV2', hash: Uint8Array) => {
    const existing = link[field];
    if (existing && !sameBytes(existing, hash)) fail('it names two different info-hashes');
    link[field] = hash;
  };
  for (const pair of trimmed.slice('magnet:?'.length).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    // `xt.1`, `tr.2`: numbered variants of a repeatable key mean the same thing.
    const key = (eq === -1 ? pair : pair.slice(0, eq)).toLowerCase().replace(/\.\d+$/, '');
    const raw = eq === -1 ? '' : pair.slice(eq + 1);
    const value = decodeParam(raw, key === 'dn');
    switch (key) {
      case 'xt': {
        const lower = value.toLowerCase();
        if (lower.startsWith('urn:btih:')) {
          const hash = parseV1Hash(value.slice(9));
          if (!hash) fail('urn:btih: needs 40 hex or 32 base32 characters');
          setHash('infoHash', hash);
        } else if (lower.startsWith('urn:btmh:')) {
          // Multihash: 0x12 = sha2-256, 0x20 = 32 bytes.
          const match = /^1220([0-9a-f]{64})$/i.exec(value.slice(9));
          if (!match) fail('urn:btmh: needs 1220 followed by 64 hex characters');
          setHash('infoHashV2', hexDecode(match[1]));
        }
        // Other URNs (ed2k, sha1 of a file…) name things BitTorrent cannot fetch; ignore them.
        break;
      }
      case 'dn':
        // An empty dn names nothing (toMagnet leaves an empty name out, too).
        link.name = value === '' ? null : value;
        break;
      case 'tr':
        if (value !== '' && !link.trackers.some((tier) => tier[0] === value)) {
          link.trackers.push([value]);
        }
        break;
      case 'ws':
        if (value !== '' && !link.webSeeds.includes(value)) link.webSeeds.push(value);
        break;
      case 'x.pe':
        link.peers.push(parsePeer(value));
        break;
      case 'so':
        link.selectOnly = [
          ...new Set([...(link.selectOnly ?? []), ...parseSelectOnly(value)]),
        ].sort((a, b) => a - b);
        break;
      default:
        // Unknown parameters (xl, kt, as, x.…) are optional hints; ignoring them is safe.
        break;
    }
  }
  if (!link.infoHash && !link.infoHashV2) fail('it has no xt=urn:btih: or xt=urn:btmh: info-hash');
  return link;
}

/**
 * Accepts what `download` accepts besides files and URLs: a magnet link, a
 * bare v1 hash (40 hex / 32 base32) or a bare v2 hash (64 hex).
 */
export function parseInfoHashOrMagnet(text: string): MagnetLink {
  const trimmed = text.trim();
  if (/^magnet:/i.test(trimmed)) return parseMagnet(trimmed);
  const empty = { name: null, trackers: [], webSeeds: [], peers: [], selectOnly: null };
  const v1 = parseV1Hash(trimmed);
  if (v1) return { infoHash: v1, infoHashV2: null, ...empty };
  if (/^[0-9a-f]{64}$/i.test(trimmed))
    return { infoHash: null, infoHashV2: hexDecode(trimmed), ...empty };
  throw new InputError(
    `not a magnet link or info-hash: '${trimmed.slice(0, 80)}' (expected magnet:?…, 40 hex, 32 base32 or 64 hex characters)`,
  );
}

/** Percent-encodes; lone surrogates (which encodeURIComponent throws on) become U+FFFD. */
function encode(text: string): string {
  return encodeURIComponent(text.toWellFormed());
}

/** Builds a magnet link: btih and/or btmh (both for hybrids), dn, tr, ws. */
export function toMagnet(source: MagnetSource | Metainfo): string {
  const params: string[] = [];
  if (source.infoHash) params.push(`xt=urn:btih:${toHex(source.infoHash)}`);
  if (source.infoHashV2) params.push(`xt=urn:btmh:1220${toHex(source.infoHashV2)}`);
  if (!source.infoHash && !source.infoHashV2) {
    throw new InputError('cannot build a magnet link without an info-hash');
  }
  if (source.name) params.push(`dn=${encode(source.name)}`);
  const seen = new Set<string>();
  for (const url of (source.trackers ?? []).flat()) {
    if (seen.has(url)) continue;
    seen.add(url);
    params.push(`tr=${encode(url)}`);
  }
  for (const url of source.webSeeds ?? []) params.push(`ws=${encode(url)}`);
  return `magnet:?${params.join('&')}`;
}
