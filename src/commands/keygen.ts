import { Command, Flags } from '@oclif/core';
import { processOutput } from './command-output.ts';
import { outputFlags } from './flags.ts';

export default class Keygen extends Command {
  static override summary = 'Make an ed25519 key for publishing updatable torrents (BEP 46).';
  static override description = `Writes a new private key to --out (PEM, readable by you only: mode 0600) and prints its public key in hex.
An existing file is never overwritten. Keep the key secret: whoever holds it can publish new versions.
Use it with shoal publish; downloaders follow magnet:?xs=urn:btpk:<public key>&s=<salt hex>.
Exit codes: 2 bad usage or the file exists, 5 cannot write.`;

  static override examples = [
    '<%= config.bin %> keygen -o publisher.key',
    '<%= config.bin %> keygen -o ~/.config/shoal/nightly.key --json',
  ];

  static override flags = {
    out: Flags.string({ char: 'o', description: 'key file to create', required: true }),
    ...outputFlags,
    json: Flags.boolean({ description: 'print {"publicKey", "keyFile"} on stdout' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Keygen);
    // The action loads only when this command runs.
    const { keygen } = await import('./keygen.run.ts');
    await keygen(
      {},
      flags,
      processOutput((line) => this.log(line)),
    );
  }
}
