/**
 * The flags that choose how shoal talks to peers, shared by download and
 * seed, and the client they make: one listening port and the way peers are
 * dialed and accepted (src/core/client/client.ts).
 */
import { Flags } from '@oclif/core';
import { Client } from '../core/client/client.ts';
import { TRANSPORT_CHOICES, type TransportChoice } from '../core/client/dialer.ts';
import type { HashPool } from '../core/hashing/pool.ts';
import {
  DEFAULT_ENCRYPTION,
  ENCRYPTION_POLICIES,
  type EncryptionPolicy,
} from '../core/transport/mse/index.ts';

export const connectionFlags = {
  transport: Flags.string({
    description:
      'how to reach peers: tcp, utp (uTP over UDP), or both (listen on both with one port number; dial TCP first, uTP too when TCP fails or is slow to connect)',
    options: [...TRANSPORT_CHOICES],
    default: 'both',
    env: 'SHOAL_TRANSPORT',
  }),
  encryption: Flags.string({
    description:
      'encrypted connections (MSE/PE): prefer (dial encrypted, retry in plaintext if the peer refuses; accept both), require (encrypted only, both ways), or off (plaintext only)',
    options: [...ENCRYPTION_POLICIES],
    default: DEFAULT_ENCRYPTION,
    env: 'SHOAL_ENCRYPTION',
  }),
};

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
    // oclif has checked the values against the option lists above.
    transports: (flags.transport ?? 'both') as TransportChoice,
    encryption: (flags.encryption ?? DEFAULT_ENCRYPTION) as EncryptionPolicy,
  });
}
