/**
 * Turns a magnet link (or bare info-hash) into a torrent: finds peers through
 * the given sources, fetches the info dictionary from them (BEP 9), checks it
 * against the info-hash, and returns it with the peers that proved useful so
 * the download can dial them first.
 */
import { InputError } from '../errors.ts';
import {
  fetchMetadata,
  metainfoFromInfo,
  torrentFromInfo,
  type MetadataEvent,
} from '../metadata/index.ts';
import type { MagnetLink } from '../metainfo/index.ts';
import type { Metainfo } from '../metainfo/types.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import type { PeerDiscovery } from '../discovery/discovery.ts';
import { generatePeerId, peerIdPrefix } from '../wire/peer-id.ts';

export interface ResolveMagnetOptions {
  magnet: MagnetLink;
  /** Tracker tiers to use besides the magnet's own (`--tracker`). */
  discoveries: PeerDiscovery[];
  version: string;
  timeoutMs?: number;
  maxPeers?: number;
  signal?: AbortSignal;
  onEvent?: (event: MetadataEvent) => void;
}

export interface ResolvedMagnet {
  meta: Metainfo;
  /** The metainfo as a .torrent file (for --save-torrent). */
  torrentBytes: Uint8Array;
  /** Peers that served or offered metadata, then every other one learned. */
  peers: PeerAddress[];
}

export async function resolveMagnet(options: ResolveMagnetOptions): Promise<ResolvedMagnet> {
  const { magnet } = options;
  const wireHash = magnet.infoHash ?? magnet.infoHashV2?.subarray(0, 20);
  if (!wireHash) throw new InputError('the magnet link has no info-hash');
  const result = await fetchMetadata({
    infoHash: wireHash,
    infoHashV2: magnet.infoHashV2,
    peerId: generatePeerId(peerIdPrefix(options.version)),
    discoveries: options.discoveries,
    timeoutMs: options.timeoutMs,
    maxPeers: options.maxPeers,
    signal: options.signal,
    onEvent: options.onEvent,
    clientName: `shoal ${options.version}`,
  });
  const context = { trackers: magnet.trackers, webSeeds: magnet.webSeeds };
  const meta = metainfoFromInfo(result.infoBytes, context);
  if (!meta.pieces) {
    // v2-only: piece hashes live outside the info dictionary (BEP 52 hash requests).
    throw new InputError(
      'this magnet link is for a v2-only torrent, whose piece hashes cannot be fetched from peers yet: download its .torrent file instead',
    );
  }
  return {
    meta,
    torrentBytes: torrentFromInfo(result.infoBytes, context),
    peers: [...result.peers, ...result.otherPeers],
  };
}
