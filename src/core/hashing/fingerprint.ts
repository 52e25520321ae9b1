/**
 * The fast, non-cryptographic fingerprint of verified piece data used by the
 * resume state. Never a substitute for SHA-1 on data from the network: it only
 * tells whether bytes on disk are still the bytes we verified earlier.
 * xxh64 rather than xxh3: @node-rs/xxhash's xxh3 binding measured 2.1 GB/s on
 * our machines against 17 GB/s for xxh64 (see BENCHMARKS.md).
 *
 * Keyed: xxh64 is seeded with a per-user secret kept outside the output
 * directory (resume/resume-key.ts). Unseeded, anyone who could write to the
 * output directory could compute the fingerprint of the good data and craft
 * other bytes with the same one (xxh64 is easy to invert); without the seed,
 * and with the stored fingerprints unreadable to them, they cannot.
 */
import { loadXxhash } from '../native/xxhash.ts';
import { resumeSecrets } from '../resume/resume-key.ts';

// The addon and the key are loaded on first use: threads that only compute
// SHA-1 (create, a full check) never pay for either.

export function fingerprint(data: Uint8Array): bigint {
  return loadXxhash().xxh64(data, resumeSecrets().fingerprintSeed);
}

/**
 * Incremental form for data read in chunks; equals `fingerprint` of the
 * concatenation. `reset` starts over, so one hasher serves many pieces: each
 * native hasher is freed only when its thread's GC runs, and one per piece
 * held ~300 bytes a piece (hundreds of MiB for a million-piece check).
 */
export function fingerprintHasher(): {
  update(chunk: Uint8Array): void;
  digest(): bigint;
  reset(): void;
} {
  const seed = resumeSecrets().fingerprintSeed;
  const hasher = new (loadXxhash().Xxh64)(seed);
  return {
    update(chunk) {
      hasher.update(chunk);
    },
    digest: () => hasher.digest(),
    reset: () => hasher.reset(seed),
  };
}
