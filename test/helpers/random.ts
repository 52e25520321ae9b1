/**
 * Seeded randomness for tests that choose moments or inputs at random: the
 * seed is printed, and `SHOAL_TEST_SEED=N` replays a failing run exactly.
 */

/** The run's seed: SHOAL_TEST_SEED when set, else a fresh one (printed either way). */
export function testSeed(label: string): number {
  const fromEnv = process.env.SHOAL_TEST_SEED;
  const seed = fromEnv ? Number(fromEnv) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  console.log(`${label}: seed ${seed} (replay with SHOAL_TEST_SEED=${seed})`);
  return seed;
}

/** A small, fast PRNG (mulberry32): the same seed gives the same numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
