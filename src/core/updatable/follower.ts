/**
 * Follows an updatable torrent (BEP 46) for `download --follow`: asks the
 * DHT for the item every `intervalMs` and reports each version whose
 * sequence number is higher than any seen before (a node serving an older
 * copy never moves the follower back). Lookup failures are warnings; the
 * next round tries again.
 */
import type DHT from 'bittorrent-dht';
import { resolveUpdatable, type UpdatableVersion } from './mutable-item.ts';

export interface FollowerOptions {
  dht: DHT;
  publicKey: Buffer;
  salt: Buffer;
  /** Time between lookups. Default 5 minutes. */
  intervalMs?: number;
  onVersion: (version: UpdatableVersion) => void;
  onWarning?: (message: string) => void;
}

export class UpdatableFollower {
  readonly #options: FollowerOptions;
  #timer: NodeJS.Timeout | null = null;
  #latestSeq = -1;
  #running = false;
  #stopped = false;

  constructor(options: FollowerOptions) {
    this.#options = options;
  }

  /** The highest sequence number reported so far (-1 before the first). */
  get latestSeq(): number {
    return this.#latestSeq;
  }

  /** Looks up now, then every interval. `knownSeq`: a version already in hand, not reported again. */
  start(knownSeq = -1): void {
    this.#latestSeq = Math.max(this.#latestSeq, knownSeq);
    void this.#round();
    this.#timer = setInterval(() => void this.#round(), this.#options.intervalMs ?? 5 * 60_000);
    this.#timer.unref?.();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #round(): Promise<void> {
    if (this.#running || this.#stopped) return;
    this.#running = true;
    try {
      const version = await resolveUpdatable(
        this.#options.dht,
        this.#options.publicKey,
        this.#options.salt,
      );
      if (this.#stopped || !version || version.seq <= this.#latestSeq) return;
      this.#latestSeq = version.seq;
      this.#options.onVersion(version);
    } catch (error) {
      if (!this.#stopped) this.#options.onWarning?.((error as Error).message);
    } finally {
      this.#running = false;
    }
  }
}
