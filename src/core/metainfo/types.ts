/**
 * The in-memory shape of a parsed torrent (v1, v2 or hybrid). Everything that
 * reads a .torrent produces this; everything that hashes, stores or serves data
 * consumes it. All values here have already been validated and sanitized.
 */

export type TorrentVersion = 'v1' | 'v2' | 'hybrid';

export interface TorrentFile {
  /**
   * Sanitized path components relative to the download directory. For a
   * multi-file torrent the first component is the torrent's (sanitized) name,
   * so `path.join('/')` is exactly where the file is written.
   */
  path: string[];
  /**
   * Set only when `path` was renamed (`README (1).TXT`) because the file's own
   * sanitized path collides with another file's by case or Unicode
   * normalisation: that un-renamed path (`README.TXT`), where clients that do
   * not rename (and the source tree) keep the file.
   */
  renamedFrom?: string[];
  /** Length in bytes (0 for empty files). */
  length: number;
  /**
   * Byte offset of this file in the torrent's piece space. For v1 and hybrid
   * that is the concatenation of the files in order, padding files included.
   * For v2-only torrents every non-empty file starts on a piece boundary (the
   * gaps behave like padding that is never stored).
   */
  offset: number;
  /** BEP 47 padding file: never written to disk, reads as zeros. */
  padding: boolean;
  /** BEP 47 attributes as given (`x` executable, `h` hidden, `l` symlink, `p` padding). */
  attr: string;
  /**
   * BEP 47 symlink (`attr` has `l` and the entry a `symlink path`): the target's
   * sanitized components, relative to the torrent's root directory as BEP 47
   * says (the `name` directory of a multi-file torrent). Such an entry has no
   * data (`length` 0 whatever the metainfo says); storage/file-attributes.ts
   * makes the link once the download is complete. Absent for other files.
   */
  symlinkPath?: string[];
  /** v2: the 32-byte merkle root of the file (absent for empty files and v1-only torrents). */
  piecesRoot: Uint8Array | null;
}

export interface Metainfo {
  /** Sanitized display name (also the top directory of a multi-file torrent). */
  name: string;
  /** SHA-1 of the info dictionary's original bytes; null for v2-only torrents. */
  infoHash: Uint8Array | null;
  /** SHA-256 of the info dictionary's original bytes; null for v1-only torrents. */
  infoHashV2: Uint8Array | null;
  version: TorrentVersion;
  /** True when the info dictionary has `files` (v1) or a file tree deeper than one file (v2). */
  multiFile: boolean;
  pieceLength: number;
  /** Number of pieces in the piece space (see TorrentFile.offset). */
  pieceCount: number;
  /** Sum of the lengths of all non-padding files. */
  totalSize: number;
  /** End of the piece space in bytes: totalSize plus padding (and v2 alignment gaps). */
  spaceSize: number;
  private: boolean;
  /** Files in metainfo order, padding files included. */
  files: TorrentFile[];
  /** v1: the concatenated 20-byte SHA-1 piece hashes (pieceCount * 20 bytes); null for v2-only. */
  pieces: Uint8Array | null;
  /** v2: piece layer per pieces root (hex of the root -> concatenated 32-byte hashes). */
  pieceLayers: Map<string, Uint8Array>;
  /** BEP 12 tiers (a lone `announce` becomes one tier of one URL). */
  trackers: string[][];
  /** BEP 19 url-list. */
  webSeeds: string[];
  comment: string | null;
  createdBy: string | null;
  creationDate: Date | null;
  source: string | null;
  /** The info dictionary exactly as it appeared in the file (info-hashes are over these bytes). */
  infoBytes: Uint8Array;
}
