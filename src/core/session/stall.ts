/**
 * The error a download ends with when nothing verified arrived for
 * `--stall-timeout`: it says what was tried (peers known, web seeds and the
 * last thing one of them answered), so a script's log explains the exit 4.
 */
import { NetworkError } from '../errors.ts';

export interface StallFacts {
  stallMs: number;
  knownPeers: number;
  webSeeds: ReadonlyArray<{ lastError?: string | null }>;
}

export function stallError({ stallMs, knownPeers, webSeeds }: StallFacts): NetworkError {
  let what =
    knownPeers === 0 ? 'no peers found' : `no data received from ${knownPeers} known peer(s)`;
  if (webSeeds.length > 0) {
    const last = webSeeds.find((mirror) => mirror.lastError)?.lastError;
    what += ` or ${webSeeds.length} web seed(s)${last ? ` (last error: ${last})` : ''}`;
  }
  return new NetworkError(
    `${what} for ${Math.round(stallMs / 1000)}s; giving up (data verified so far is kept)`,
  );
}
