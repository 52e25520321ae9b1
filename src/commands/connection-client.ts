/**
 * The client a one-torrent command (download, seed) runs its torrent on, from
 * the values of the connection flags (connection-flags.ts). Apart from the
 * flag definitions so that a command run without oclif
 * (commands/download.fast.ts) does not load oclif through it.
 */
import { Client } from '../core/client/client.ts';
import type { TransportChoice } from '../core/client/dialer.ts';
import type { HashPool } from '../core/hashing/pool.ts';
import { DEFAULT_ENCRYPTION, type EncryptionPolicy } from '../core/transport/mse/policy.ts';

export interface ConnectionFlagValues {
  port?: number;
  transport?: string;
  encryption?: string;
}

/** The client a one-torrent command runs its torrent on; started by the caller. */
export function clientFromFlags(flags: ConnectionFlagValues, hashPool: HashPool): Client {
  return new Client({
    port: flags.port ?? 0,
    hashPool,
    // The parser (oclif, or download.fast.ts) has checked the values against the option lists.
    transports: (flags.transport ?? 'both') as TransportChoice,
    encryption: (flags.encryption ?? DEFAULT_ENCRYPTION) as EncryptionPolicy,
  });
}
