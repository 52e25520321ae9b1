/** Public API of the DHT module: BEP 5 peer discovery through bittorrent-dht. */
export {
  DhtDiscovery,
  dhtCachePath,
  readDhtCache,
  writeDhtCache,
  type DhtCache,
  type DhtDiscoveryOptions,
} from './dht-discovery.ts';
