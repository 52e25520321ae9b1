/**
 * Where @node-rs/xxhash (a native addon) comes from. Run from source or from
 * the npm package it is the installed module, found through node_modules.
 * Inside the single executable there is no node_modules: the executable's
 * entry (src/sea/) extracts the addon next to its other runtime files and
 * names it here before anything loads it, and it is opened with
 * process.dlopen.
 *
 * In the executable's bundle every `import … from '@node-rs/xxhash'` is
 * redirected to `loadXxhash()` (scripts/build-sea.ts), so modules may import
 * the package directly or through this loader; both work in both places.
 */
import { createRequire } from 'node:module';
import type * as Xxhash from '@node-rs/xxhash';
import { DiskError } from '../errors.ts';

export type XxhashModule = typeof Xxhash;

let extractedAddon: string | null = null;
let loaded: XxhashModule | null = null;

/**
 * Makes `loadXxhash` open this `.node` file instead of the installed package
 * (single executable only; `null` goes back to the package).
 */
export function useExtractedXxhash(addonPath: string | null): void {
  extractedAddon = addonPath;
  loaded = null;
}

/** The xxhash module, loaded once per thread. */
export function loadXxhash(): XxhashModule {
  if (loaded !== null) return loaded;
  if (extractedAddon === null) {
    loaded = createRequire(import.meta.url)('@node-rs/xxhash') as XxhashModule;
    return loaded;
  }
  const module = { exports: {} as XxhashModule };
  try {
    process.dlopen(module, extractedAddon);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    // A cache directory on a noexec mount is the likely cause: say how to move it.
    throw new DiskError(
      `cannot load the native addon ${extractedAddon}: ${reason}; set XDG_CACHE_HOME to a directory on a file system that allows executables`,
      { cause: error },
    );
  }
  loaded = module.exports;
  return loaded;
}
