/**
 * The top-level fields of a .torrent outside the info dictionary: trackers
 * (BEP 12), web seeds (BEP 19), comment, created by, creation date. None of
 * them is part of the info-hash, so a bad one is ignored, never fatal.
 */
import { isBytes, type BencodeDict, type BencodeValue } from '../bencode/index.ts';
import { get } from './fields.ts';
import { decodeText } from './text.ts';

/** Largest creation date kept (9999-12-31T23:59:59Z); later ones are nonsense. */
const MAX_CREATION_DATE = 253_402_300_799;

export interface TopLevel {
  trackers: string[][];
  webSeeds: string[];
  comment: string | null;
  createdBy: string | null;
  creationDate: Date | null;
  /** Raw `piece layers`, or null when the source cannot have them (magnet metadata). */
  pieceLayers: Map<string, Uint8Array> | null;
}

function urlText(value: BencodeValue): string | null {
  if (!isBytes(value)) return null;
  const text = decodeText(value).trim();
  return text === '' ? null : text;
}

/**
 * BEP 12 tiers, else the lone `announce`. Every non-empty string is kept
 * (scheme filtering belongs to the tracker client, which must refuse
 * anything but http/https/udp anyway); duplicates keep their first place.
 * A tier written as a bare string (seen in the wild) counts as one URL.
 */
export function parseTrackers(top: BencodeDict): string[][] {
  const seen = new Set<string>();
  const tiers: string[][] = [];
  const take = (items: BencodeValue[]) => {
    const tier: string[] = [];
    for (const item of items) {
      const url = urlText(item);
      if (url === null || seen.has(url)) continue;
      seen.add(url);
      tier.push(url);
    }
    if (tier.length > 0) tiers.push(tier);
  };
  const list = get(top, 'announce-list');
  if (Array.isArray(list)) {
    for (const tier of list) take(Array.isArray(tier) ? tier : [tier]);
  }
  if (tiers.length === 0) {
    const announce = get(top, 'announce');
    if (announce !== undefined) take([announce]);
  }
  return tiers;
}

/**
 * BEP 19 `url-list`: a string or a list of strings; anything else is ignored.
 * BEP 17 `httpseeds` is ignored on purpose: it is a different protocol (a
 * script answering piece requests) that shoal does not speak.
 */
export function parseWebSeeds(top: BencodeDict): string[] {
  const value = get(top, 'url-list');
  const items = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const seeds: string[] = [];
  for (const item of items) {
    const url = urlText(item);
    if (url !== null && !seeds.includes(url)) seeds.push(url);
  }
  return seeds;
}

export function parseCreationDate(value: BencodeValue | undefined): Date | null {
  // 0 is what several tools write for "unknown"; negative and far-future values are garbage.
  if (typeof value !== 'number' || value <= 0 || value > MAX_CREATION_DATE) return null;
  return new Date(value * 1000);
}
