/**
 * Writes completions/shoal.bash and completions/_shoal from the commands' flag
 * definitions: `node completions/generate.ts` after adding or renaming a flag
 * (test/ui/completions.test.ts fails until the files are current).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commands } from '../src/commands/index.ts';
import { bashCompletion, zshCompletion, type CommandDef } from '../src/ui/completions.ts';

export function commandDefs(): Record<string, CommandDef> {
  return Object.fromEntries(
    Object.entries(commands).map(([name, command]) => [
      name,
      { summary: command.summary, flags: command.flags as unknown as CommandDef['flags'] },
    ]),
  );
}

const here = dirname(fileURLToPath(import.meta.url));
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(here, 'shoal.bash'), bashCompletion(commandDefs()));
  writeFileSync(join(here, '_shoal'), zshCompletion(commandDefs()));
}
