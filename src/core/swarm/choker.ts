/**
 * Choking decisions, one round every `roundMs` (10 s): pure, the engine supplies peer
 * statistics and the time, and sends CHOKE/UNCHOKE for the difference it gets back.
 *
 * - Downloading: tit-for-tat. The `slots` interested, non-snubbed peers that upload to
 *   us fastest are unchoked.
 * - Seeding: 'round-robin' (libtorrent's default seed_choking_algorithm): a peer keeps its
 *   slot for `seedRotateMs`, then yields to the interested peer that has waited longest,
 *   so every leecher gets a turn; ties go to the faster uploads. 'fastest-upload' instead
 *   unchokes the peers we upload to fastest (libtorrent's fastest_upload).
 * - Plus one optimistic unchoke on top of the regular slots (as libtorrent's
 *   num_optimistic_unchoke_slots), rotated every `optimisticMs` (30 s) among interested
 *   peers not otherwise unchoked. Peers connected within `newPeerMs` are `newPeerWeight`
 *   (3) times as likely to be chosen (BEP 3): they have nothing to trade yet.
 */

export interface ChokerPeer {
  readonly id: string;
  /** The peer is interested in our pieces. */
  readonly interested: boolean;
  /** Bytes per second it sends us (payload). */
  readonly downloadRate: number;
  /** Bytes per second we send it (payload). */
  readonly uploadRate: number;
  /** It unchoked us but sent no block for a while (see isSnubbed in request-queue.ts). */
  readonly snubbed: boolean;
  readonly connectedAt: number;
}

export type SeedAlgorithm = 'round-robin' | 'fastest-upload';

export interface ChokerOptions {
  readonly random: () => number;
  readonly slots?: number;
  readonly optimisticMs?: number;
  readonly newPeerMs?: number;
  readonly newPeerWeight?: number;
  readonly seedAlgorithm?: SeedAlgorithm;
  readonly seedRotateMs?: number;
}

export class Choker {
  readonly slots: number;
  readonly #random: () => number;
  readonly #optimisticMs: number;
  readonly #newPeerMs: number;
  readonly #newPeerWeight: number;
  readonly #seedAlgorithm: SeedAlgorithm;
  readonly #seedRotateMs: number;

  #optimistic: string | undefined;
  #optimisticSince = 0;
  /** Regular (non-optimistic) unchokes from the last round, with when they began. */
  #unchokedSince = new Map<string, number>();
  /** When each peer last lost (or never had) a regular slot: round-robin waits on this. */
  readonly #lastChokedAt = new Map<string, number>();

  constructor(options: ChokerOptions) {
    this.#random = options.random;
    this.slots = options.slots ?? 4;
    this.#optimisticMs = options.optimisticMs ?? 30_000;
    this.#newPeerMs = options.newPeerMs ?? 60_000;
    this.#newPeerWeight = options.newPeerWeight ?? 3;
    this.#seedAlgorithm = options.seedAlgorithm ?? 'round-robin';
    this.#seedRotateMs = options.seedRotateMs ?? 60_000;
  }

  /** The current optimistic unchoke, if any. */
  get optimistic(): string | undefined {
    return this.#optimistic;
  }

  /** Ids of the peers to have unchoked after this round; everyone else is choked. */
  decide(peers: readonly ChokerPeer[], now: number, seeding = false): Set<string> {
    const interested = peers.filter((p) => p.interested);
    const regular = seeding ? this.#seedRanking(interested, now) : this.#leechRanking(interested);
    const chosen = regular.slice(0, this.slots).map((p) => p.id);

    const nextSince = new Map<string, number>();
    for (const id of chosen) nextSince.set(id, this.#unchokedSince.get(id) ?? now);
    for (const id of this.#unchokedSince.keys()) {
      if (!nextSince.has(id)) this.#lastChokedAt.set(id, now);
    }
    this.#unchokedSince = nextSince;
    const present = new Set(peers.map((p) => p.id));
    for (const id of this.#lastChokedAt.keys()) if (!present.has(id)) this.#lastChokedAt.delete(id);

    const result = new Set(chosen);
    const candidates = interested.filter((p) => !result.has(p.id));
    const current = candidates.find((p) => p.id === this.#optimistic);
    if (current === undefined || now - this.#optimisticSince >= this.#optimisticMs) {
      const pick = this.#weightedPick(candidates, now);
      this.#optimistic = pick?.id;
      this.#optimisticSince = now;
    }
    if (this.#optimistic !== undefined) result.add(this.#optimistic);
    return result;
  }

  #leechRanking(interested: readonly ChokerPeer[]): ChokerPeer[] {
    return interested
      .filter((p) => !p.snubbed)
      .sort(
        (a, b) =>
          b.downloadRate - a.downloadRate ||
          // Equal rates: keep whoever already has a slot, to avoid needless churn.
          Number(this.#unchokedSince.has(b.id)) - Number(this.#unchokedSince.has(a.id)),
      );
  }

  #seedRanking(interested: readonly ChokerPeer[], now: number): ChokerPeer[] {
    if (this.#seedAlgorithm === 'fastest-upload') {
      return [...interested].sort((a, b) => b.uploadRate - a.uploadRate);
    }
    const keeps = (p: ChokerPeer): boolean => {
      const since = this.#unchokedSince.get(p.id);
      return since !== undefined && now - since < this.#seedRotateMs;
    };
    const waited = (p: ChokerPeer): number => {
      if (this.#unchokedSince.has(p.id)) return -Infinity; // its turn is over
      return now - (this.#lastChokedAt.get(p.id) ?? -Infinity);
    };
    return [...interested].sort(
      (a, b) =>
        Number(keeps(b)) - Number(keeps(a)) ||
        compareDesc(waited(a), waited(b)) ||
        b.uploadRate - a.uploadRate,
    );
  }

  #weightedPick(candidates: readonly ChokerPeer[], now: number): ChokerPeer | undefined {
    if (candidates.length === 0) return undefined;
    const weight = (p: ChokerPeer): number =>
      now - p.connectedAt < this.#newPeerMs ? this.#newPeerWeight : 1;
    const total = candidates.reduce((sum, p) => sum + weight(p), 0);
    let r = this.#random() * total;
    for (const p of candidates) {
      r -= weight(p);
      if (r < 0) return p;
    }
    return candidates[candidates.length - 1];
  }
}

/** Descending order that treats two infinities of the same sign as equal. */
function compareDesc(a: number, b: number): number {
  if (a === b) return 0;
  return a > b ? -1 : 1;
}
