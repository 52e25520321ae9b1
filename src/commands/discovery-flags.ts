/**
 * The flags that choose where peers come from (`--tracker`, `--peer`, the
 * DHT), shared by download, seed and `inspect --fetch`. Their translation
 * into the engine's discovery choices is discovery-choices.ts.
 */
import { Flags } from '@oclif/core';

export const discoveryFlags = {
  tracker: Flags.string({ description: 'extra tracker URL (repeatable)', multiple: true }),
  peer: Flags.string({
    description: 'peer to connect to, HOST:PORT or [IPV6]:PORT (repeatable)',
    multiple: true,
  }),
  dht: Flags.boolean({
    description:
      'find peers through the DHT (--no-dht to turn off; SHOAL_NO_DHT=1 does too); never for private torrents',
    allowNo: true,
    default: true,
  }),
  lsd: Flags.boolean({
    description:
      'find peers on the local network segment (BEP 14 Local Service Discovery; --no-lsd to turn off; SHOAL_NO_LSD=1 does too); never for private torrents',
    allowNo: true,
    default: true,
  }),
  'dht-bootstrap': Flags.string({
    description: 'DHT node HOST:PORT to join through, replacing the default routers (repeatable)',
    multiple: true,
  }),
  'dht-port': Flags.integer({
    description: 'UDP port for the DHT (default: any free port)',
    min: 0,
    max: 65535,
  }),
};
