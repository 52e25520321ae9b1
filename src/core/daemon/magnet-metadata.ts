/**
 * A daemon torrent added as a magnet: fetching its metadata. The peers come
 * from the magnet itself and the DHT; the metadata is stored before the
 * download starts (a restart never fetches it twice); and what the fetch set
 * up (its sources, its connections, the peer-id they were made under) is
 * carried on into the download instead of being torn down and redone.
 */
import type { Client } from '../client/client.ts';
import { buildDiscoveries, type DiscoveryChoices } from '../discovery/build-discoveries.ts';
import { DiscoveryHub } from '../discovery/hub.ts';
import { closeHandedOff, type HandedOffPeer } from '../metadata/hand-off.ts';
import { parseInfoHashOrMagnet } from '../metainfo/index.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { resolveMagnet } from '../source/resolve-magnet.ts';

/** What fetching a magnet's metadata needs from whoever runs the torrent. */
export interface MetadataEnvironment {
  client: Client;
  version: string;
  /** The DHT choice for public torrents (false: off). */
  dht: DiscoveryChoices['dht'];
  /** Keeps fetched metadata (the .torrent bytes) for the next start. */
  saveMetainfo(hash: string, bytes: Uint8Array): Promise<void>;
  /** Most time a magnet looks for its metadata in one attempt. */
  metadataTimeoutMs: number;
}

/** What a magnet's metadata fetch hands to the session that follows it. */
export interface Carried {
  hub: DiscoveryHub;
  connections: HandedOffPeer[];
  peerId: Uint8Array;
}

/**
 * Fetches and stores the metadata of `magnet` (the torrent keyed `hash`).
 * `hubFor` makes the sources of a private torrent, which must not go on
 * with the DHT the fetch used.
 */
export async function fetchMagnetMetadata(
  magnetText: string,
  hash: string,
  env: MetadataEnvironment,
  hubFor: (meta: Metainfo) => DiscoveryHub,
  signal: AbortSignal,
): Promise<{ meta: Metainfo; carried: Carried }> {
  const magnet = parseInfoHashOrMagnet(magnetText);
  const hub = new DiscoveryHub(
    buildDiscoveries({
      trackers: magnet.trackers,
      peers: magnet.peers,
      dht: env.dht,
      isPrivate: false,
    }),
  );
  try {
    const resolved = await resolveMagnet({
      magnet,
      discoveries: hub,
      handOff: true,
      port: env.client.port,
      transport: env.client.transport,
      version: env.version,
      timeoutMs: env.metadataTimeoutMs,
      signal,
    });
    await env.saveMetainfo(hash, resolved.torrentBytes);
    const carried: Carried = {
      hub,
      connections: resolved.connections,
      peerId: resolved.peerId,
    };
    // A private torrent must not be looked up in the DHT: its sources start over without it.
    if (resolved.meta.private) {
      await hub.stop();
      carried.hub = hubFor(resolved.meta);
    }
    return { meta: resolved.meta, carried };
  } catch (error) {
    await hub.stop();
    throw error;
  }
}

/** Closes what a fetch carried over when no session takes it on. */
export async function releaseCarried(carried: Carried, reason: string): Promise<void> {
  closeHandedOff(carried.connections, reason);
  await carried.hub.stop();
}
