/**
 * A session's data: the storage of the torrent's files (only the selected
 * ones are opened), the picker that knows which pieces we want (a piece is
 * wanted when it holds data of a selected file; the rest get priority 0),
 * and the re-reading of every wanted piece that `--verify` asks for after a run.
 */
import type { HashPool } from '../hashing/pool.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { DiskStorage } from '../storage/disk-storage.ts';
import { PiecePicker } from '../swarm/piece-picker.ts';
import { checkPieces } from '../verify/check-pieces.ts';
import type { SessionOptions } from './session-types.ts';

export interface SessionData {
  storage: DiskStorage;
  picker: PiecePicker;
}

type DataOptions = Pick<SessionOptions, 'outDir' | 'selectedFiles' | 'readOnly' | 'followLinks'>;

export function openSessionData(
  meta: Metainfo,
  infoHash: Uint8Array,
  options: DataOptions,
): SessionData {
  const selected = meta.files.map(
    (file, i) => !file.padding && (!options.selectedFiles || options.selectedFiles.has(i)),
  );
  const storage = new DiskStorage(
    { ...meta, infoHashHex: Buffer.from(infoHash).toString('hex') },
    {
      outDir: options.outDir,
      selected,
      readOnly: options.readOnly,
      followLinks: options.followLinks,
    },
  );
  const picker = new PiecePicker({
    pieceCount: meta.pieceCount,
    pieceLength: meta.pieceLength,
    totalLength: meta.spaceSize,
    random: Math.random,
  });
  for (let index = 0; index < meta.pieceCount; index++) {
    const spans = storage.layout.fileSpans(index, 0);
    const wanted = spans.some((span) => span.kind === 'data' && selected[span.fileIndex]);
    if (!wanted) picker.setPriority(index, 0);
  }
  return { storage, picker };
}

export function wantedPieces(picker: PiecePicker, pieceCount: number): number[] {
  const wanted: number[] = [];
  for (let i = 0; i < pieceCount; i++) if (picker.isWanted(i)) wanted.push(i);
  return wanted;
}

/** Re-reads and re-hashes every wanted piece by SHA-1, then closes the storage. */
export async function recheckData(
  meta: Metainfo,
  { storage, picker }: SessionData,
  hashPool: HashPool,
): Promise<{ good: number; wanted: number }> {
  const wanted = wantedPieces(picker, meta.pieceCount);
  try {
    const good = await checkPieces({ meta, storage, pool: hashPool, wanted, claimed: null });
    return { good: good.size, wanted: wanted.length };
  } finally {
    await storage.close();
  }
}
