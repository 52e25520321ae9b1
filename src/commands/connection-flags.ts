/**
 * The flags that choose how shoal talks to peers, shared by download and
 * seed, and the client they make: one listening port and the way peers are
 * dialed and accepted (src/core/client/client.ts).
 */
import { Client } from '../core/client/client.ts';
import type { HashPool } from '../core/hashing/pool.ts';

export interface ConnectionFlagValues {
  port?: number;
}

/** The client a one-torrent command runs its torrent on; started by the caller. */
export function clientFromFlags(flags: ConnectionFlagValues, hashPool: HashPool): Client {
  return new Client({ port: flags.port ?? 0, hashPool });
}
