/**
 * The 20-byte hashes a torrent's peers may name it by. A v1 torrent has one
 * (the SHA-1 of its info dict), a v2 one has one (its SHA-256, cut to 20
 * bytes on the wire, BEP 52), and a hybrid is in both swarms at once: a peer
 * that knows it by either hash reaches the same torrent (libtorrent does the
 * same). The first is the hash we use where one must be chosen.
 */

export interface SwarmHashSource {
  infoHash: Uint8Array | null;
  infoHashV2: Uint8Array | null;
}

/** The v1 hash first (the one v1-only peers know), then the truncated v2 hash. */
export function swarmHashes(source: SwarmHashSource): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  if (source.infoHash) hashes.push(source.infoHash);
  if (source.infoHashV2) hashes.push(source.infoHashV2.subarray(0, 20));
  if (hashes.length === 0) throw new Error('a torrent with neither a v1 nor a v2 info-hash');
  return hashes;
}

/** The one of `hashes` equal to `wanted`, or undefined. */
export function findHash(
  hashes: readonly Uint8Array[],
  wanted: Uint8Array,
): Uint8Array | undefined {
  return hashes.find((hash) => Buffer.compare(hash, wanted) === 0);
}
