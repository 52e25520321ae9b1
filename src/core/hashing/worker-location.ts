/**
 * Where hash pools start their worker threads from. Its own module, without
 * piscina, so the single executable's entry (src/sea/main.ts) can redirect it
 * before anything else loads, and commands that never hash (inspect without
 * --verify) never pay for loading piscina.
 */
let workerOverride: string | null = null;

/**
 * Sets the worker module pools use when none is given. The single executable
 * calls it: there the worker is a bundled file extracted at start, not a
 * module next to this one.
 */
export function setDefaultWorkerFilename(filename: string): void {
  workerOverride = filename;
}

export function defaultWorkerFilename(): string {
  if (workerOverride !== null) return workerOverride;
  const ext = import.meta.url.endsWith('.ts') ? '.cts' : '.cjs';
  return new URL(`./hash-worker-entry${ext}`, import.meta.url).href;
}
