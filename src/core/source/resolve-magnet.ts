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
import type { DiscoveryHub } from '../discovery/hub.ts';
import { closeHandedOff, type HandedOffPeer } from '../metadata/hand-off.ts';
import type { Transport } from '../transport/transport.ts';
import { generatePeerId, peerIdPrefix } from '../wire/peer-id.ts';

export interface ResolveMagnetOptions {
  magnet: MagnetLink;
  /**
   * Where peers come from. Pass a hub (with `handOff`) to keep the sources
   * and the connections running into the download.
   */
  discoveries: PeerDiscovery[] | DiscoveryHub;
  /** Keep live connections for the download (see FetchMetadataOptions.handOff). */
  handOff?: boolean;
  /** The port peers reach us on, announced to the sources (0: not listening). */
  port?: number;
  /** How peers are dialed: the client's, so metadata connections are made as the download's are. */
  transport?: Transport;
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
  /** With `handOff`: connections to carry on with, made under `peerId`. */
  connections: HandedOffPeer[];
  peerId: Uint8Array;
}

export async function resolveMagnet(options: ResolveMagnetOptions): Promise<ResolvedMagnet> {
  const { magnet } = options;
  const wireHash = magnet.infoHash ?? magnet.infoHashV2?.subarray(0, 20);
  if (!wireHash) throw new InputError('the magnet link has no info-hash');
  const peerId = generatePeerId(peerIdPrefix(options.version));
  const result = await fetchMetadata({
    infoHash: wireHash,
    infoHashV2: magnet.infoHashV2,
    peerId,
    discoveries: options.discoveries,
    handOff: options.handOff,
    port: options.port,
    transport: options.transport,
    timeoutMs: options.timeoutMs,
    maxPeers: options.maxPeers,
    signal: options.signal,
    onEvent: options.onEvent,
    clientName: `shoal ${options.version}`,
  });
  const context = { trackers: magnet.trackers, webSeeds: magnet.webSeeds };
  let meta: Metainfo;
  try {
    meta = metainfoFromInfo(result.infoBytes, context);
  } catch (error) {
    closeHandedOff(result.connections, 'the metadata is not a valid torrent');
    throw error;
  }
  // A v2-only torrent's piece hashes are not in the metadata: the session fetches its piece
  // layers from peers (BEP 52 hash requests) before it downloads.
  return {
    meta,
    torrentBytes: torrentFromInfo(result.infoBytes, context),
    peers: [...result.peers, ...result.otherPeers],
    connections: result.connections,
    peerId,
  };
}
