/**
 * Addresses a torrent may dial, from every source, with the one backoff rule
 * both phases of a download use: a magnet's metadata fetch and the data
 * phase (session/peer-pool.ts) keep their candidates here, so an address
 * that failed while fetching metadata is not hammered again, and a hostile
 * source cannot grow the list past its cap.
 *
 * Rule: a dial that fails (or a connection that closes before its handshake)
 * waits 5 s, then 10 s, 20 s ... up to 5 minutes before the next try; a
 * connection that worked and closed later is tried again after a short pause
 * chosen by the caller. Forbidden candidates (ourselves, peers that sent bad
 * data) are never dialed again. When the list is full, the oldest address
 * that failed makes room; one that worked or is forbidden never does.
 */
import { isIP } from 'node:net';
import { addressKey, validatePeer, validPort, type PeerAddress } from '../net/peer-address.ts';

export interface DialCandidate {
  readonly key: string;
  readonly address: PeerAddress;
  /** Where it came from: tracker URL, 'dht', 'pex', 'command line', ... */
  readonly source: string;
  /**
   * The swarm it was found in, when the source said (trackers, DHT, LSD): a
   * hybrid's peer from its v2 swarm is dialled with the v2 hash, which it
   * surely knows (one that came with a btmh-only magnet may know no other).
   */
  readonly infoHash?: Uint8Array;
  failures: number;
  nextAttemptAt: number;
  /** Being dialed, or connected. */
  busy: boolean;
  /** Never dial again: it is us, or it sent bad data. */
  forbidden: boolean;
}

/** Most addresses a torrent keeps: no source (a PEX flood, a huge tracker reply) grows it further. */
export const MAX_DIAL_CANDIDATES = 1000;
export const FIRST_RETRY_MS = 5000;
export const MAX_RETRY_MS = 300_000;

export interface DialCandidatesOptions {
  /** Most addresses kept. */
  max: number;
  /** Our own listening address is never a candidate. */
  isSelf?: (address: PeerAddress) => boolean;
}

export class DialCandidates {
  readonly #byKey = new Map<string, DialCandidate>();
  readonly #max: number;
  readonly #isSelf: (address: PeerAddress) => boolean;

  constructor(options: DialCandidatesOptions) {
    this.#max = options.max;
    this.#isSelf = options.isSelf ?? (() => false);
  }

  get size(): number {
    return this.#byKey.size;
  }

  get(key: string): DialCandidate | undefined {
    return this.#byKey.get(key);
  }

  /** Adds the usable addresses not known yet; returns how many were new. */
  add(addresses: Iterable<PeerAddress>, source: string, infoHash?: Uint8Array): number {
    let added = 0;
    for (const raw of addresses) {
      const address = usableAddress(raw);
      if (!address || this.#isSelf(address)) continue;
      const key = addressKey(address);
      if (this.#byKey.has(key)) continue;
      if (this.#byKey.size >= this.#max && !this.#dropOneFailed()) continue;
      this.#byKey.set(key, {
        key,
        address,
        source,
        ...(infoHash ? { infoHash } : {}),
        failures: 0,
        nextAttemptAt: 0,
        busy: false,
        forbidden: false,
      });
      added++;
    }
    return added;
  }

  values(): IterableIterator<DialCandidate> {
    return this.#byKey.values();
  }

  /** Candidates that may be dialed now, oldest first (the caller stops when its slots are full). */
  *dialable(now: number): Generator<DialCandidate> {
    for (const candidate of this.#byKey.values())
      if (!candidate.busy && !candidate.forbidden && candidate.nextAttemptAt <= now)
        yield candidate;
  }

  /** How many wait for a slot now (up to `limit`: the caller only needs to know "enough"). */
  waiting(now: number, limit: number): number {
    let count = 0;
    if (limit <= 0) return 0;
    for (const _ of this.dialable(now)) if (++count >= limit) break;
    return count;
  }

  dialing(candidate: DialCandidate): void {
    candidate.busy = true;
  }

  /** The handshake finished: its failures are forgiven. */
  connected(candidate: DialCandidate): void {
    candidate.failures = 0;
  }

  /** The dial failed, or the connection closed before its handshake: back off. */
  failed(candidate: DialCandidate, now = Date.now()): void {
    candidate.busy = false;
    candidate.failures++;
    candidate.nextAttemptAt =
      now + Math.min(FIRST_RETRY_MS * 2 ** (candidate.failures - 1), MAX_RETRY_MS);
  }

  /** A connection that worked has closed: try again after `retryMs`. */
  closed(candidate: DialCandidate, retryMs: number, now = Date.now()): void {
    candidate.busy = false;
    candidate.nextAttemptAt = now + retryMs;
  }

  forbid(key: string): void {
    const candidate = this.#byKey.get(key);
    if (candidate) candidate.forbidden = true;
  }

  #dropOneFailed(): boolean {
    for (const [key, candidate] of this.#byKey) {
      if (candidate.busy || candidate.forbidden || candidate.failures === 0) continue;
      this.#byKey.delete(key);
      return true;
    }
    return false;
  }
}

/**
 * IP literals are checked and made canonical (one peer, one key); a host name
 * (someone typed it: `--peer`, a magnet's `x.pe`) is dialed by name.
 */
function usableAddress(raw: PeerAddress): PeerAddress | null {
  if (!validPort(raw.port)) return null;
  return validatePeer(raw.host, raw.port) ?? (isIP(raw.host) === 0 && raw.host ? raw : null);
}
