/**
 * The environment a completion hook gets (the names are documented in the
 * README): everything a script needs about the run, so it needs no arguments
 * and no parsing of shoal's output.
 */
import type { RunOutcome } from './outcome.ts';

/** `undefined` removes a variable the parent environment may carry (a stale SHOAL_RECEIPT). */
export function hookEnvironment(outcome: RunOutcome): Record<string, string | undefined> {
  return {
    SHOAL_STATUS: String(outcome.status),
    SHOAL_NAME: outcome.name,
    SHOAL_INFO_HASH: outcome.infoHash,
    SHOAL_INFO_HASH_V2: outcome.infoHashV2,
    SHOAL_OUT: outcome.out,
    SHOAL_PATH: outcome.path,
    SHOAL_BYTES: String(outcome.bytes),
    SHOAL_SECONDS: String(outcome.seconds),
    SHOAL_RECEIPT: outcome.receipt ?? undefined,
  };
}
