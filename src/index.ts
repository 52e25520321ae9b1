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
/**
 * The name the design uses (`import { Client } from 'shoal'`): the same class
 * as ShoalClient. The engine's own core/client Client (port, routing, DHT
 * node) is an internal part of it, not a public API.
 */
export { ShoalClient as Client } from './lib/shoal-client.ts';
export type { ShoalClientOptions, TorrentInfo, TorrentInput } from './lib/shoal-client.ts';
export type { AddOptions } from './core/daemon/torrent-manager.ts';
export type {
  ManagedTorrent,
  ManagedTorrentEvents,
  Activity,
} from './core/daemon/managed-torrent.ts';
export type { TorrentRecord } from './core/daemon/torrent-record.ts';
export type { PeerInfo, SessionPhase, SessionStats } from './core/session/session-types.ts';
export type { Priority } from './core/rpc/backend.ts';
export type { Metainfo, TorrentFile, TorrentVersion } from './core/metainfo/types.ts';
export { createTorrent } from './core/create/build-torrent.ts';
export type {
  CreateOptions,
  CreateResult,
  CreatedFile,
  CreateProgress,
  CreateProgressCallback,
} from './core/create/build-torrent.ts';
export type { SkippedEntry } from './core/create/walk.ts';
export type { FileVerifyStatus } from './core/verify/verify-data.ts';
export type { ExitCodeValue } from './core/errors.ts';
export type { EncryptionPolicy } from './core/transport/mse/policy.ts';
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
