/** Public API of the metainfo module: .torrent parsing, path sanitizing, magnet links. */
export type { Metainfo, TorrentFile, TorrentVersion } from './types.ts';
export {
  parseTorrent,
  parseInfoDict,
  pieceLayerRoot,
  BLOCK_SIZE,
  MAX_FILES,
  MAX_PATH_BYTES,
  MAX_PATH_DEPTH,
  MAX_PIECE_LENGTH,
  type ParseOptions,
} from './parse.ts';
export {
  sanitizeComponent,
  sanitizePath,
  sanitizeName,
  collisionKey,
  type SanitizeOptions,
} from './sanitize-path.ts';
export { disambiguatePaths } from './disambiguate.ts';
export {
  parseMagnet,
  parseInfoHashOrMagnet,
  toMagnet,
  type MagnetLink,
  type MagnetPeer,
  type MagnetSource,
  /** Alias used by callers. */
  type MagnetLink as Magnet,
} from './magnet.ts';
export {
  metainfoHeader,
  metainfoToJson,
  type MetainfoJson,
  type MetainfoJson as MetainfoSummary,
} from './summary.ts';
export { toHex } from './text.ts';
