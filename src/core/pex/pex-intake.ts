/**
 * What we take from the ut_pex messages peers send us (issue #15). Pure:
 * the engine passes in the time. A peer may send anything as often as it
 * likes, so:
 * - BEP 11 allows one message a minute: a message that comes sooner after
 *   the last one we took is dropped before it is even decoded;
 * - one message gives at most `maxPerMessage` addresses, one connection at
 *   most `maxPerSource` over its life (later messages are dropped unread);
 * - loopback and private addresses are taken only from a peer that is itself
 *   on such an address (see address-scope.ts): otherwise anyone on the
 *   internet could have us probe ports on our own machine or network.
 */
import { mayAdvertise } from './address-scope.ts';
import { decodePex, PEX_SEND_LIMIT, type PexAddress } from './ut-pex-codec.ts';

export interface PexIntakeOptions {
  /** Least time between two messages taken from one connection. Default 50 s (BEP 11's minute, less jitter). */
  minIntervalMs?: number;
  /** Most addresses taken from one message. Default 50 (BEP 11's limit for senders). */
  maxPerMessage?: number;
  /** Most addresses taken from one connection over its life. Default 200. */
  maxPerSource?: number;
}

export interface PexSender {
  /** The connection's key (`host:port`). */
  key: string;
  /** The sender's IP address, as the socket reports it. */
  host: string;
}

interface SourceRecord {
  lastTakenAt: number;
  taken: number;
}

export class PexIntake {
  readonly #minIntervalMs: number;
  readonly #maxPerMessage: number;
  readonly #maxPerSource: number;
  readonly #sources = new Map<string, SourceRecord>();
  /** Messages dropped unread (too soon, or the sender used up its share): for tests and stats. */
  dropped = 0;

  constructor(options: PexIntakeOptions = {}) {
    this.#minIntervalMs = options.minIntervalMs ?? 50_000;
    this.#maxPerMessage = options.maxPerMessage ?? PEX_SEND_LIMIT;
    this.#maxPerSource = options.maxPerSource ?? 200;
  }

  /**
   * The addresses to take from `payload`, a ut_pex message from `sender`.
   * Throws WireProtocolError when a message it decodes is malformed.
   */
  receive(sender: PexSender, payload: Uint8Array, now: number): PexAddress[] {
    const record = this.#sources.get(sender.key);
    if (
      record &&
      (now - record.lastTakenAt < this.#minIntervalMs || record.taken >= this.#maxPerSource)
    ) {
      this.dropped++;
      return [];
    }
    const { added } = decodePex(payload, this.#maxPerMessage);
    const room = Math.min(this.#maxPerMessage, this.#maxPerSource - (record?.taken ?? 0));
    const taken: PexAddress[] = [];
    for (const { host, port } of added) {
      if (taken.length >= room) break;
      if (mayAdvertise(sender.host, host)) taken.push({ host, port });
    }
    this.#sources.set(sender.key, {
      lastTakenAt: now,
      taken: (record?.taken ?? 0) + taken.length,
    });
    return taken;
  }

  /** The connection closed: forget it (a new connection starts afresh, within the engine's own caps). */
  forget(key: string): void {
    this.#sources.delete(key);
  }
}
