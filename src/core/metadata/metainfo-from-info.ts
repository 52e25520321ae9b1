/**
 * Turns a fetched info dictionary into what the rest of shoal consumes: a
 * Metainfo (the info-hash is computed over the very bytes peers sent, so it
 * stays the one the magnet named) and, for `--save-torrent`, .torrent bytes.
 */
import { encodeBencode } from '../bencode/index.ts';
import { parseInfoDict, type Metainfo, type ParseOptions } from '../metainfo/index.ts';

export interface InfoContext {
  /** Tracker tiers from the magnet (`tr`) and the command line. */
  trackers?: string[][];
  /** Magnet `ws` web seeds. */
  webSeeds?: string[];
}

/**
 * Parses fetched info bytes (throws InputError if they are not a valid info
 * dictionary) and attaches the magnet's trackers and web seeds. v2 piece
 * layers are not part of the info dictionary: a v2 or hybrid Metainfo built
 * here has empty `pieceLayers`, which the session fetches from peers for a
 * v2-only torrent (session/piece-layer-fetcher.ts).
 */
export function metainfoFromInfo(
  infoBytes: Uint8Array,
  context: InfoContext = {},
  options: ParseOptions = {},
): Metainfo {
  const metainfo = parseInfoDict(infoBytes, options);
  return {
    ...metainfo,
    trackers: (context.trackers ?? []).filter((tier) => tier.length > 0),
    webSeeds: context.webSeeds ?? [],
  };
}

/**
 * A minimal .torrent around the original info bytes: `announce`,
 * `announce-list` and `url-list` when known, the info dictionary verbatim
 * (never re-encoded, so the info-hash is unchanged). Keys stay sorted as
 * BEP 3 requires: announce < announce-list < info < url-list.
 */
export function torrentFromInfo(infoBytes: Uint8Array, context: InfoContext = {}): Uint8Array {
  const tiers = (context.trackers ?? []).filter((tier) => tier.length > 0);
  const before = new Map<string, unknown>();
  if (tiers.length > 0) {
    before.set('announce', tiers[0]![0]!);
    if (tiers.length > 1 || tiers[0]!.length > 1) before.set('announce-list', tiers);
  }
  const after = new Map<string, unknown>();
  if (context.webSeeds && context.webSeeds.length > 0) after.set('url-list', context.webSeeds);
  const head = encodeBencode(before); // "d...e"
  const tail = encodeBencode(after); // "d...e"
  const infoKey = new TextEncoder().encode('4:info');
  const out = new Uint8Array(head.length - 1 + infoKey.length + infoBytes.length + tail.length - 1);
  let at = 0;
  out.set(head.subarray(0, head.length - 1), at);
  at += head.length - 1;
  out.set(infoKey, at);
  at += infoKey.length;
  out.set(infoBytes, at);
  at += infoBytes.length;
  out.set(tail.subarray(1), at);
  return out;
}
