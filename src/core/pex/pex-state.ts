/**
 * What we told each peer through ut_pex, and the next diff to send it. Pure:
 * the engine passes in the time and its current peer list.
 *
 * BEP 11: send at most one message a minute per peer, each with at most 50
 * added and 50 dropped peers. Peers that did not fit go in a later message.
 * A peer is never told about itself.
 */
import { addressKeyOf, PEX_SEND_LIMIT, type PexMessage, type PexPeer } from './ut-pex-codec.ts';

export interface PexStateOptions {
  /** Least time between two messages to one peer (default 60 s). */
  intervalMs?: number;
  /** Most added and most dropped entries per message (default 50). */
  maxPerMessage?: number;
}

interface PeerRecord {
  /** key -> what we told this peer. */
  told: Map<string, PexPeer>;
  lastSentAt: number | null;
}

export class PexState {
  readonly #intervalMs: number;
  readonly #max: number;
  readonly #peers = new Map<string, PeerRecord>();

  constructor(options: PexStateOptions = {}) {
    this.#intervalMs = options.intervalMs ?? 60_000;
    this.#max = options.maxPerMessage ?? PEX_SEND_LIMIT;
  }

  /**
   * The message to send `recipient` (its address key) now, given the peers we
   * are connected to, or null when it is too soon or nothing changed. Call
   * it periodically (say every few seconds) for each peer that supports
   * ut_pex; a non-null result is recorded as sent. `recipientListens` is
   * the address the recipient accepts connections on when that differs from
   * its key (it dialled us: the key has its outgoing port): it is not told
   * about itself under that address either.
   */
  next(
    recipient: string,
    connected: readonly PexPeer[],
    now: number,
    recipientListens?: string,
  ): PexMessage | null {
    let record = this.#peers.get(recipient);
    if (!record) this.#peers.set(recipient, (record = { told: new Map(), lastSentAt: null }));
    if (record.lastSentAt !== null && now - record.lastSentAt < this.#intervalMs) return null;

    const current = new Map<string, PexPeer>();
    for (const peer of connected) {
      const key = addressKeyOf(peer);
      if (key !== recipient && key !== recipientListens && !current.has(key))
        current.set(key, peer);
    }
    const added: PexPeer[] = [];
    for (const [key, peer] of current) {
      if (added.length >= this.#max) break;
      const told = record.told.get(key);
      // A change of flags (e.g. it became a seed) is news worth repeating.
      if (!told || told.flags !== peer.flags) added.push(peer);
    }
    const dropped: PexPeer[] = [];
    for (const [key, peer] of record.told) {
      if (dropped.length >= this.#max) break;
      if (!current.has(key)) dropped.push(peer);
    }
    if (added.length === 0 && dropped.length === 0) return null;

    for (const peer of added) record.told.set(addressKeyOf(peer), peer);
    for (const peer of dropped) record.told.delete(addressKeyOf(peer));
    record.lastSentAt = now;
    return {
      added,
      dropped: dropped.map(({ host, port }) => ({ host, port })),
    };
  }

  /** The recipient disconnected: forget what we told it. */
  forget(recipient: string): void {
    this.#peers.delete(recipient);
  }
}
