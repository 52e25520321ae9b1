import type { Interfaces } from '@oclif/core';
import { resolve } from 'node:path';
import { createKeyFile } from '../core/updatable/keys.ts';
import type { CommandOutput } from './command-output.ts';
import type Keygen from './keygen.ts';

type KeygenFlags = Interfaces.InferredFlags<typeof Keygen.flags>;

/** What `shoal keygen` does (the flags and help live in keygen.ts). */
export async function keygen(
  _args: Record<string, never>,
  flags: KeygenFlags,
  output: CommandOutput,
): Promise<void> {
  const publicKey = (await createKeyFile(flags.out)).toString('hex');
  if (flags.json) {
    output.stdout(JSON.stringify({ publicKey, keyFile: resolve(flags.out) }));
    return;
  }
  output.stdout(publicKey);
  if (!flags.quiet) output.stderr(`shoal keygen: wrote ${flags.out} (mode 0600); keep it secret`);
}
