/**
 * What a download loads before its first piece (docs/PERFORMANCE.md, "First
 * byte (2026-12-07, morning)"): node:https (and node:tls) wait for the first
 * https:// URL, the end-of-run hook's node:child_process for the run's end,
 * and piscina (worker_threads, assert, perf_hooks) for the first hash worker,
 * while the first pieces are hashed on the calling thread. Each case runs in
 * a fresh Node 24 process, whose `process.moduleLoadList` names every
 * built-in module it has loaded.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, repoRoot, spawnTracked, trackProcesses } from '../helpers/cli.ts';

trackProcesses();
afterEach(() => killAll());

const node = path.join(repoRoot, 'node_modules', '.bin', 'node');
const source = (file: string) => JSON.stringify(path.join(repoRoot, 'src', file));

/** Runs `script` (an ES module) in a fresh Node and returns the JSON it printed last. */
async function inFreshNode(script: string): Promise<Record<string, unknown>> {
  const proc = spawnTracked('node', node, ['--input-type=module', '-e', script], {
    timeoutMs: 60_000,
  });
  const result = await proc.exited;
  expect(result.code, proc.describe()).toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** A script line that prints which of `names` are loaded built-ins, as JSON. */
const report = (names: string[]) =>
  `console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(names)}.map((n) => [n, process.moduleLoadList.includes('NativeModule ' + n)]))));`;

describe('a download start-up', () => {
  it('loads neither node:https nor node:child_process with the download code', async () => {
    // node:tls is not checked here: the ES module namespace of node:http, which the source
    // imports, loads it by itself (the executable's CommonJS bundles do not).
    const loaded = await inFreshNode(
      `await import(${source('commands/download.run.ts')});` +
        // The proof that the check can see a module: node:http is loaded.
        report(['http', 'https', 'child_process']),
    );
    expect(loaded).toEqual({ http: true, https: false, child_process: false });
  });

  it('hashes its first piece without piscina, and loads it when the worker starts', async () => {
    const loaded = await inFreshNode(
      `const { HashPool } = await import(${source('core/hashing/pool.ts')});` +
        `const { createHash } = await import('node:crypto');` +
        `const pool = new HashPool({ threads: 1 });` +
        `const piece = new Uint8Array(new SharedArrayBuffer(65536)).fill(7);` +
        `const digest = Buffer.from(await pool.sha1Shared(piece)).toString('hex');` +
        `const before = process.moduleLoadList.includes('NativeModule worker_threads');` +
        // The worker starts in the turn after the first verdict; wait until it has answered.
        `while (!pool.warm) await new Promise((r) => setTimeout(r, 20));` +
        `const after = process.moduleLoadList.includes('NativeModule worker_threads');` +
        `await pool.destroy();` +
        `console.log(JSON.stringify({ right: digest === createHash('sha1').update(piece).digest('hex'), before, after }));`,
    );
    expect(loaded).toEqual({ right: true, before: false, after: true });
  });

  it('hashes pieces handed over (sha1Buffer) on a pool without worker threads', async () => {
    const result = await inFreshNode(
      `const { HashPool } = await import(${source('core/hashing/pool.ts')});` +
        `const { createHash } = await import('node:crypto');` +
        `const pool = new HashPool({ threads: 0, callingThreadHashes: true });` +
        `const bytes = new Uint8Array(3000).map((_, i) => i * 7);` +
        `const copy = bytes.slice();` +
        `const digests = Buffer.from(await pool.sha1Buffer(copy.buffer, [1000, 2000]));` +
        `const expected = Buffer.concat([createHash('sha1').update(bytes.subarray(0, 1000)).digest(), createHash('sha1').update(bytes.subarray(1000)).digest()]);` +
        `await pool.destroy();` +
        `console.log(JSON.stringify({ right: digests.equals(expected), workers: process.moduleLoadList.includes('NativeModule worker_threads') }));`,
    );
    expect(result).toEqual({ right: true, workers: false });
  });
});
