/**
 * shoal as a library: `import { ShoalClient, createTorrent, inspectTorrent } from 'shoal'`.
 * Nothing here prints or exits; expected failures are ShoalError subclasses
 * whose `exitCode` says the family (see docs/LIBRARY.md).
 */
import { readFile } from 'node:fs/promises';
import { HashPool } from './core/hashing/pool.ts';
import { parseTorrent } from './core/metainfo/index.ts';
import { metainfoToJson, type MetainfoJson } from './core/metainfo/summary.ts';
import { verifyData, type VerifyResult } from './core/verify/verify-data.ts';

export { ShoalClient } from './lib/shoal-client.ts';
export type { ShoalClientOptions, TorrentInfo, TorrentInput } from './lib/shoal-client.ts';
export type { AddOptions } from './core/daemon/torrent-manager.ts';
export type { ManagedTorrent, Activity } from './core/daemon/managed-torrent.ts';
export { createTorrent } from './core/create/build-torrent.ts';
export type { CreateOptions, CreateResult } from './core/create/build-torrent.ts';
export {
  ShoalError,
  UsageError,
  InputError,
  NetworkError,
  DiskError,
  VerifyError,
  InterruptedError,
  ExitCode,
} from './core/errors.ts';
export type { MetainfoJson, VerifyResult };

/** Reads and checks a .torrent (bytes or a path): name, info-hashes, files, trackers... */
export async function inspectTorrent(input: Uint8Array | string): Promise<MetainfoJson> {
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  return metainfoToJson(parseTorrent(bytes));
}

/** Hashes the data in `dir` against the torrent; `ok` says whether every file matched. */
export async function verifyTorrent(
  input: Uint8Array | string,
  dir: string,
  options: { threads?: number } = {},
): Promise<VerifyResult> {
  const bytes = typeof input === 'string' ? await readFile(input) : input;
  const pool = new HashPool({ threads: options.threads });
  try {
    return await verifyData(parseTorrent(bytes), dir, pool);
  } finally {
    await pool.destroy();
  }
}
