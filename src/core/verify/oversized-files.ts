/**
 * Selected files that are longer on disk than the torrent says. Their pieces
 * can all hash correctly while the file still differs from the torrent's, so
 * verification (download --verify) counts them as a mismatch.
 */
import type { TorrentFile } from '../metainfo/types.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';

/** `/`-joined torrent paths of the selected, non-padding files longer than their length. */
export function oversizedFiles(storage: DiskStorage, files: readonly TorrentFile[]): string[] {
  const longer: string[] = [];
  files.forEach((file, index) => {
    if (file.padding || file.symlinkPath || !storage.isSelected(index)) return;
    if (storage.fileSize(storage.filePath(index)) > file.length) longer.push(file.path.join('/'));
  });
  return longer;
}
