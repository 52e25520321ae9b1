/**
 * What `shoal download 'magnet:?xs=urn:btpk:…'` needs first: the info-hash
 * of the latest version. Joins the DHT, looks the item up, leaves. The
 * download then proceeds as for a bare info-hash (and `--follow` keeps an
 * UpdatableFollower on its own DHT node).
 */
import { NetworkError } from '../errors.ts';
import {
  closeDht,
  openUpdatableDht,
  resolveUpdatable,
  type UpdatableDhtOptions,
  type UpdatableVersion,
} from './mutable-item.ts';
import { parseUpdatableMagnet } from './updatable-magnet.ts';

/** Resolves a BEP 46 magnet; InputError for a bad magnet, NetworkError when nothing is published. */
export async function resolveUpdatableMagnet(
  magnetText: string,
  dhtOptions: UpdatableDhtOptions = {},
  timeoutMs = 60_000,
): Promise<UpdatableVersion> {
  const { publicKey, salt } = parseUpdatableMagnet(magnetText);
  const dht = await openUpdatableDht(dhtOptions);
  try {
    const version = await resolveUpdatable(dht, publicKey, salt, timeoutMs);
    if (!version) {
      throw new NetworkError(
        'no version of this updatable torrent was found in the DHT (not published, or expired: publish again)',
      );
    }
    return version;
  } finally {
    await closeDht(dht);
  }
}
