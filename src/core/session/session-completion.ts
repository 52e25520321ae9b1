/**
 * What completing a download does to the data and the peers: the files are
 * finished (written back, BEP 47 attributes applied) before anyone is told,
 * and a session that goes on seeding drops its interest in every peer and
 * the peers that are complete too.
 */
import type { Metainfo } from '../metainfo/types.ts';
import type { Peer } from '../peer/peer.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';
import { applyFileAttributes } from '../storage/file-attributes.ts';

export interface FinishedFiles {
  meta: Metainfo;
  storage: DiskStorage;
  selectedFiles?: ReadonlySet<number> | null;
  /** Read-only data is left exactly as it is. */
  readOnly?: boolean;
  warn: (message: string) => void;
}

/** BEP 47: executables get +x, links are made inside the download (or skipped with a warning). */
export async function finishFiles(files: FinishedFiles): Promise<void> {
  await files.storage.finish();
  if (files.readOnly) return;
  const selected = files.selectedFiles ?? undefined;
  const report = await applyFileAttributes(files.meta, files.storage.outDir, { selected });
  for (const warning of report.warnings) files.warn(warning);
}

/** Seeding begins: we want nothing more, and two seeds have nothing to trade. */
export function turnToSeeding(peers: Iterable<Peer>, pieceCount: number): void {
  for (const peer of peers) {
    peer.setInterested(false);
    if (peer.seed || peer.have.count() === pieceCount) peer.close('both complete');
  }
}
