/**
 * The flags that choose how shoal talks to peers, shared by download and
 * seed. The client they make is connection-client.ts.
 */
import { Flags } from '@oclif/core';
import { TRANSPORT_CHOICES } from '../core/client/dialer.ts';
import { DEFAULT_ENCRYPTION, ENCRYPTION_POLICIES } from '../core/transport/mse/index.ts';

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
