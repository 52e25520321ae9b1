/**
 * BEP 44 mutable items through bittorrent-dht, and BEP 46's use of them:
 * the item under (public key, salt) is `{ih: <20-byte info-hash>}`, signed,
 * with a sequence number that grows with each version.
 *
 * Every get result is signature-checked by the library with verifyEd25519
 * (items that fail are dropped before we see them) and checked for shape
 * here: a DHT node can answer anything.
 */
import { createHash } from 'node:crypto';
import DHT, { type DhtGetResult } from 'bittorrent-dht';
import { NetworkError } from '../errors.ts';
import { verifyEd25519, type SigningKey } from './keys.ts';

export interface UpdatableDhtOptions {
  /** `host:port` entry nodes (`--dht-bootstrap`); absent: the library's routers. */
  bootstrap?: string[];
  /** UDP port (0: any). */
  port?: number;
  /** Address to bind (tests: 127.0.0.1). Default: all IPv4 addresses. */
  host?: string;
  /** Bound on joining the DHT. Default 30 s. */
  readyTimeoutMs?: number;
}

/** A DHT node that checks BEP 44 signatures, listening and bootstrapped. */
export async function openUpdatableDht(options: UpdatableDhtOptions = {}): Promise<DHT> {
  const dht = new DHT({
    verify: verifyEd25519,
    ...(options.bootstrap ? { bootstrap: options.bootstrap } : {}),
  });
  dht.on('warning', () => {
    // Malformed packets from strangers: routine on the open DHT.
  });
  try {
    await bounded(
      new Promise<void>((resolve, reject) => {
        dht.once('error', reject);
        const ready = () => {
          dht.removeListener('error', reject);
          resolve();
        };
        const listening = () => (dht.ready ? ready() : dht.once('ready', ready));
        if (options.host) dht.listen(options.port ?? 0, options.host, listening);
        else dht.listen(options.port ?? 0, listening);
      }),
      options.readyTimeoutMs ?? 30_000,
      'could not join the DHT (no bootstrap node answered)',
    );
  } catch (error) {
    await closeDht(dht);
    if (error instanceof NetworkError) throw error;
    throw new NetworkError(`DHT: ${(error as Error).message}`);
  }
  if (dht.nodes.count() === 0) {
    await closeDht(dht);
    throw new NetworkError('could not join the DHT: no node answered (check --dht-bootstrap)');
  }
  return dht;
}

export function closeDht(dht: DHT): Promise<void> {
  return bounded(new Promise<void>((resolve) => dht.destroy(() => resolve())), 2000, '').catch(
    () => {},
  );
}

/** The DHT key of a mutable item: SHA-1 of the public key followed by the salt. */
export function mutableTarget(publicKey: Uint8Array, salt: Uint8Array): Buffer {
  return createHash('sha1').update(publicKey).update(salt).digest();
}

export interface UpdatableVersion {
  infoHash: Buffer;
  seq: number;
}

/** The latest version published under (publicKey, salt), or null when the DHT has none. */
export async function resolveUpdatable(
  dht: DHT,
  publicKey: Buffer,
  salt: Buffer,
  timeoutMs = 60_000,
): Promise<UpdatableVersion | null> {
  const result = await getItem(dht, publicKey, salt, timeoutMs);
  if (!result) return null;
  const infoHash = bep46InfoHash(result.v);
  if (!infoHash) {
    throw new NetworkError('the DHT item for this key is not a BEP 46 torrent pointer');
  }
  return { infoHash, seq: result.seq ?? 0 };
}

/**
 * Publishes `infoHash` under (key, salt) with the next sequence number: one
 * more than the highest the DHT holds (1 for the first version). Resolves
 * with that number and how many nodes stored the item.
 */
export async function publishUpdatable(
  dht: DHT,
  key: SigningKey,
  salt: Buffer,
  infoHash: Uint8Array,
  timeoutMs = 60_000,
): Promise<{ seq: number; nodes: number }> {
  const current = await getItem(dht, key.publicKey, salt, timeoutMs);
  const seq = (current?.seq ?? 0) + 1;
  const nodes = await bounded(
    new Promise<number>((resolve, reject) => {
      dht.put(
        {
          k: key.publicKey,
          salt: salt.length > 0 ? salt : undefined,
          seq,
          v: { ih: Buffer.from(infoHash) },
          sign: (data) => key.sign(data),
        },
        (error, _target, stored) => (error ? reject(error) : resolve(stored ?? 0)),
      );
    }),
    timeoutMs,
    'no DHT node answered the put in time',
  ).catch((error: unknown) => {
    if (error instanceof NetworkError) throw error;
    throw new NetworkError(`DHT put failed: ${(error as Error).message}`);
  });
  if (nodes === 0) throw new NetworkError('no DHT node stored the item');
  return { seq, nodes };
}

function getItem(
  dht: DHT,
  publicKey: Buffer,
  salt: Buffer,
  timeoutMs: number,
): Promise<DhtGetResult | null> {
  const target = mutableTarget(publicKey, salt);
  return bounded(
    new Promise<DhtGetResult | null>((resolve, reject) => {
      dht.get(target, { salt: salt.length > 0 ? salt : undefined, cache: false }, (error, res) =>
        error ? reject(new NetworkError(`DHT get failed: ${error.message}`)) : resolve(res),
      );
    }),
    timeoutMs,
    'the DHT lookup did not finish in time',
  );
}

/** The 20-byte `ih` of a BEP 46 value, or null when the value is anything else. */
export function bep46InfoHash(value: unknown): Buffer | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const ih = (value as { ih?: unknown }).ih;
  if (!(ih instanceof Uint8Array) || ih.length !== 20) return null;
  return Buffer.from(ih);
}

function bounded<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new NetworkError(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
