import { Args, Command, Flags } from '@oclif/core';
import { processOutput } from './command-output.ts';
import { discoveryFlags } from './discovery-flags.ts';
import { outputFlags } from './flags.ts';

export default class Publish extends Command {
  static override summary =
    'Point an updatable torrent (BEP 46) at this torrent: a signed item in the DHT under your key.';
  static override description = `Stores {ih: <info-hash>} in the DHT under the key's public key and --salt, signed (BEP 44), with a sequence
number one higher than the version the DHT holds. Prints the magnet link that always names the latest version:
magnet:?xs=urn:btpk:<public key hex>&s=<salt hex>. Publish each new build with the same key and salt.
Nothing is seeded: run shoal seed for the data. The DHT item lives about two hours on the nodes: publish again
(same torrent is fine) to keep it alive.
Exit codes: 2 bad usage, 3 bad torrent or key file, 4 no DHT node stored the item.`;

  static override examples = [
    '<%= config.bin %> publish --key publisher.key --salt nightly build-1234.torrent',
    '<%= config.bin %> publish --key publisher.key --salt nightly build.torrent --dht-bootstrap 10.0.0.5:6881 --json',
  ];

  static override args = {
    torrent: Args.string({
      required: true,
      description: '.torrent file (or URL, or a 40-hex info-hash) to point to',
    }),
  };

  static override flags = {
    key: Flags.string({ char: 'k', description: 'key file from shoal keygen', required: true }),
    salt: Flags.string({
      char: 's',
      description: 'name of this updatable torrent under the key (up to 64 bytes; default none)',
    }),
    // The same DHT flags as download and seed (no --no-dht: publishing is the DHT).
    'dht-bootstrap': discoveryFlags['dht-bootstrap'],
    'dht-port': discoveryFlags['dht-port'],
    ...outputFlags,
    json: Flags.boolean({
      description: 'print {"magnet", "publicKey", "salt", "infoHash", "seq", "nodes"} on stdout',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Publish);
    // The DHT and everything it imports load only when this command runs.
    const { publish } = await import('./publish.run.ts');
    await publish(
      args,
      flags,
      processOutput((line) => this.log(line)),
    );
  }
}
