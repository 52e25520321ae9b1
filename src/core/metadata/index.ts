/** Public API of the metadata module: BEP 9 ut_metadata codec, assembly, fetching and serving. */
export {
  UT_METADATA,
  METADATA_PIECE_SIZE,
  MAX_METADATA_SIZE,
  checkMetadataSize,
  decodeUtMetadata,
  encodeUtMetadata,
  metadataPieceCount,
  metadataPieceLength,
  type UtMetadataMessage,
  type UtMetadataDecodeOptions,
} from './ut-metadata-codec.ts';
export {
  MetadataAssembler,
  type AddResult,
  type MetadataAssemblerOptions,
} from './metadata-assembler.ts';
export { MetadataServer, type MetadataServerOptions } from './metadata-server.ts';
export {
  fetchMetadata,
  LOCAL_EXTENSION_IDS,
  type FetchMetadataOptions,
  type FetchMetadataResult,
  type MetadataEvent,
} from './fetch-metadata.ts';
export { metainfoFromInfo, torrentFromInfo, type InfoContext } from './metainfo-from-info.ts';
