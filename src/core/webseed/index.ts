export { WebSeedError, type WebSeedErrorCode } from './errors.ts';
export { fileUrls, type WebSeedTorrent } from './file-urls.ts';
export {
  WebSeed,
  defaultWebSeedOptions,
  type WebSeedOptions,
  type WebSeedStats,
} from './web-seed.ts';
export { WebSeedPool, type PoolFetch } from './web-seed-pool.ts';
export type { ServerState } from './server-health.ts';
