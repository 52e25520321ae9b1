/**
 * How an MSE receiver finds the torrent an incoming connection is for. The
 * initiator sends HASH('req2', SKEY) masked with HASH('req3', S); the receiver
 * unmasks it and looks it up here. The index keeps HASH('req2', SKEY) of every
 * stream key of every torrent the client runs (a hybrid torrent has two: its
 * v1 info-hash and its truncated v2 one), so a lookup is one map access,
 * however many torrents there are.
 */
import { skeyHash } from './mse-keys.ts';

/** Given HASH('req2', SKEY), the SKEY (info-hash) it stands for, if we run that torrent. */
export type SkeyLookup = (req2Hash: Uint8Array) => Uint8Array | undefined;

export class SkeyIndex {
  readonly #byHash = new Map<string, Uint8Array>();

  /** Registers a torrent's stream key: a 20-byte info-hash (v2 ones truncated). */
  add(skey: Uint8Array): void {
    if (skey.length !== 20) throw new RangeError(`stream key of ${skey.length} bytes, expected 20`);
    this.#byHash.set(skeyHash(skey).toString('hex'), Uint8Array.from(skey));
  }

  delete(skey: Uint8Array): void {
    this.#byHash.delete(skeyHash(skey).toString('hex'));
  }

  get size(): number {
    return this.#byHash.size;
  }

  readonly lookup: SkeyLookup = (req2Hash) =>
    this.#byHash.get(
      Buffer.from(req2Hash.buffer, req2Hash.byteOffset, req2Hash.length).toString('hex'),
    );
}
