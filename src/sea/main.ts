/**
 * Entry of the single executable (dist/shoal, built by scripts/build-sea.ts).
 * It runs before anything else in the bundle: it extracts the runtime files
 * (src/sea/assets.ts), points the hash pool and the xxhash loader at them, and
 * only then loads the CLI, whose modules are evaluated lazily by the dynamic
 * imports below so none of them runs before the files are in place.
 *
 * oclif's explicit command strategy loads its command target with `require`
 * from a file path. The bundle has no such file, so the entry publishes the
 * command module on a global and points oclif at `commands.cjs`, a one-line
 * extracted asset that hands that module back (see scripts/build-sea.ts).
 *
 * This file is the entry of three bundles (SHOAL_SEA_BUNDLE, set at build
 * time). The executable's main script is the small `front` one: it answers
 * the fast paths (`--version`, a plain inspect, a plain create) itself,
 * because V8 pays for the size of the main script on every start. A plain
 * download loads `download`, the engine without oclif, from the extracted
 * `download.cjs`: the whole CLI would cost it 30-45 ms more before its first
 * byte and the resident pages of oclif's code and of the built-in modules
 * oclif loads (docs/PERFORMANCE.md, "Download bundle"). Every other command
 * loads `full`, the whole CLI, from `cli.cjs`. Both are compiled once into
 * Node's compile cache next to them; their own run of this entry then runs
 * the command.
 */
import { createRequire, enableCompileCache } from 'node:module';
import { join } from 'node:path';
import { ShoalError } from '../core/errors.ts';
import { setDefaultWorkerFilename } from '../core/hashing/worker-location.ts';
import { useExtractedXxhash } from '../core/native/xxhash.ts';
import { parsePlainDownload } from '../commands/download.fast.ts';
import { extractSeaAssets } from './assets.ts';

/** Key of the global the `commands.cjs` asset reads; keep in step with scripts/build-sea.ts. */
export const COMMANDS_GLOBAL = Symbol.for('shoal.sea.commands');

/** Which bundle this is, defined by scripts/build-sea.ts. */
declare const SHOAL_SEA_BUNDLE: 'front' | 'download' | 'full';

async function main(): Promise<void> {
  let dir: string;
  try {
    dir = extractSeaAssets();
  } catch (error) {
    if (!(error instanceof ShoalError)) throw error;
    process.stderr.write(`shoal: error: ${error.message}\n`);
    process.exit(error.exitCode);
  }
  useExtractedXxhash(join(dir, 'xxhash.node'));
  setDefaultWorkerFilename(join(dir, 'hash-worker.cjs'));
  // oclif checks the Node version against package.json's engines with semver on
  // load (~10 ms); the executable embeds the Node it was built with, so skip it.
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1';
  // process.argv is [executable, executable, ...arguments] inside a single executable.
  const argv = process.argv.slice(2);
  if (SHOAL_SEA_BUNDLE === 'front') {
    const { runFastPath } = await import('../cli.ts');
    await runFastPath(argv);
    enableCompileCache(join(dir, 'compile-cache'));
    const next = parsePlainDownload(argv) ? 'download.cjs' : 'cli.cjs';
    createRequire(import.meta.url)(join(dir, next));
    return;
  }
  if (SHOAL_SEA_BUNDLE === 'download') {
    const { runPlainDownload } = await import('../cli.ts');
    await runPlainDownload(argv);
    // Only if the line stopped being a plain download since the front looked (it cannot):
    // the whole CLI decides.
    createRequire(import.meta.url)(join(dir, 'cli.cjs'));
    return;
  }
  const { runCli } = await import('../cli.ts');
  await runCli(argv, {
    root: dir,
    commandsTarget: './commands.cjs',
    // Only when oclif runs: --version and a plain inspect need no command classes.
    beforeOclif: async () => {
      (globalThis as Record<symbol, unknown>)[COMMANDS_GLOBAL] =
        await import('../commands/index.ts');
    },
  });
}

main().catch((error: unknown) => {
  // runCli reports everything the CLI throws; this is a failure of the entry itself.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`shoal: error: internal error: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  if (process.env.DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
