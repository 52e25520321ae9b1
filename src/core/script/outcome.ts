/**
 * How a download or seed ended, in the one shape that hooks (hook-env.ts),
 * CI outputs (ci-outputs.ts) and the receipt read. Fields not known yet when
 * the command failed early (a bad torrent has no name) are empty strings.
 */
import { join } from 'node:path';
import { ShoalError } from '../errors.ts';
import type { Metainfo } from '../metainfo/types.ts';

export interface RunOutcome {
  /** The exit code shoal is about to return. */
  status: number;
  name: string;
  /** v1 info-hash, hex; empty for a pure v2 torrent or when unknown. */
  infoHash: string;
  /** v2 info-hash, hex; empty for a v1 torrent or when unknown. */
  infoHashV2: string;
  /** The output (download) or data (seed) directory, absolute. */
  out: string;
  /** The torrent's root file or folder on disk, absolute; empty when unknown. */
  path: string;
  /** Bytes received from peers during this run (seed: bytes sent). */
  bytes: number;
  /** Bytes of the selected files (the torrent's size when all are selected). */
  size: number;
  seconds: number;
  /** Peers data was exchanged with. */
  peers: number;
  /** The receipt written, absolute; null when none. */
  receipt: string | null;
}

/** The exit code a failure maps to (as cli.ts maps it): a ShoalError's own, 1 for a bug. */
export function exitStatusOf(failure: unknown): number {
  if (failure === null) return 0;
  return failure instanceof ShoalError ? failure.exitCode : 1;
}

/** The torrent's root on disk under `dir`: its folder, or its one file. */
export function torrentRoot(
  meta: Pick<Metainfo, 'multiFile' | 'name' | 'files'>,
  dir: string,
): string {
  return join(dir, meta.multiFile ? meta.name : meta.files[0].path.join('/'));
}

/** Seconds to the millisecond, as --json reports them. */
export function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
