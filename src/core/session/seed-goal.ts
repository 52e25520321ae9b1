/**
 * When seeding after a download ends: `--seed-time` and `--seed-ratio` (either
 * one met ends it), forever for `shoal seed` without limits, or not at all.
 * Goals decided outside the session (`--seed-until`, the daemon's idle
 * limits) end it through TorrentSession.endSeeding() instead.
 */
export interface SeedGoalOptions {
  seedTimeMs?: number;
  seedRatio?: number;
  seedForever?: boolean;
}

export interface SeedProgress {
  /** When the download completed (ms since the epoch). */
  completedAt: number;
  uploaded: number;
  /** Payload downloaded this session; 0 when the data was already here. */
  downloaded: number;
  /** Bytes of the wanted data: the ratio's base when nothing was downloaded. */
  wantedTotal: number;
}

/** Whether the session goes on seeding once its download is complete. */
export function seedsAfterCompletion(goal: SeedGoalOptions): boolean {
  return Boolean(goal.seedForever) || goal.seedTimeMs !== undefined || goal.seedRatio !== undefined;
}

/** The seeding goal holds: time to stop (never, when seeding forever). */
export function seedGoalMet(goal: SeedGoalOptions, progress: SeedProgress, now: number): boolean {
  if (goal.seedForever) return false;
  const { seedTimeMs, seedRatio } = goal;
  if (seedTimeMs === undefined && seedRatio === undefined) return true;
  if (seedTimeMs !== undefined && now - progress.completedAt >= seedTimeMs) return true;
  if (seedRatio !== undefined) {
    const base = progress.downloaded || progress.wantedTotal;
    if (base > 0 && progress.uploaded / base >= seedRatio) return true;
  }
  return false;
}
