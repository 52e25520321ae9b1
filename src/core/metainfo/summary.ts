/**
 * The `inspect --json` document (DESIGN.md §1). Field names are a public
 * contract: extend, never rename.
 */
import { toMagnet } from './magnet.ts';
import { toHex } from './text.ts';
import type { Metainfo, TorrentVersion } from './types.ts';

export interface MetainfoJson {
  name: string;
  infoHash: string | null;
  infoHashV2: string | null;
  version: TorrentVersion;
  pieceLength: number;
  pieceCount: number;
  totalSize: number;
  private: boolean;
  /**
   * `attr`: BEP 47 attributes (`x`, `h`, `l`, `p`), only when the torrent gives some;
   * `symlink`: a link's target relative to the torrent's root, only for links.
   */
  files: { path: string; length: number; padding: boolean; attr?: string; symlink?: string }[];
  trackers: string[][];
  webSeeds: string[];
  comment: string | null;
  createdBy: string | null;
  creationDate: string | null;
  source: string | null;
  magnet: string;
}

export function metainfoToJson(meta: Metainfo): MetainfoJson {
  // Sanitized components joined with '/': exactly where download writes the file.
  return summarize(meta, meta.files.map(fileJson));
}

/**
 * Everything `metainfoToJson` says but the file list, for a caller that reads the files from
 * `meta` itself: the text view of a 400 000-file torrent would otherwise build (and collect)
 * an object and a joined path per file that it only looks at once.
 */
export function metainfoHeader(meta: Metainfo): Omit<MetainfoJson, 'files'> {
  return summarize(meta, null);
}

/** The document with `files` in its place (key order is what JSON.stringify prints). */
function summarize<Files>(meta: Metainfo, files: Files) {
  return {
    name: meta.name,
    infoHash: meta.infoHash ? toHex(meta.infoHash) : null,
    infoHashV2: meta.infoHashV2 ? toHex(meta.infoHashV2) : null,
    version: meta.version,
    pieceLength: meta.pieceLength,
    pieceCount: meta.pieceCount,
    totalSize: meta.totalSize,
    private: meta.private,
    files,
    trackers: meta.trackers.map((tier) => [...tier]),
    webSeeds: [...meta.webSeeds],
    comment: meta.comment,
    createdBy: meta.createdBy,
    creationDate: meta.creationDate ? meta.creationDate.toISOString() : null,
    source: meta.source,
    magnet: toMagnet(meta),
  };
}

/** One file's entry; optional fields are set after (not spread in): no empty object per file. */
function fileJson(file: Metainfo['files'][number]): MetainfoJson['files'][number] {
  const json: MetainfoJson['files'][number] = {
    path: file.path.join('/'),
    length: file.length,
    padding: file.padding,
  };
  if (file.attr) json.attr = file.attr;
  if (file.symlinkPath) json.symlink = file.symlinkPath.join('/');
  return json;
}
