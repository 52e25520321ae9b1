/**
 * The web seeds of a download, made when downloading begins: the mirrors the
 * torrent or the user named become a WebSeedSource feeding the download
 * scheduler, each refused URL a warning, and no source at all when none is
 * usable. The session keeps the source before its first `pump()`, so every
 * callback a request leads to finds it.
 */
import type { Metainfo } from '../metainfo/types.ts';
import type { PiecePicker } from '../swarm/piece-picker.ts';
import { WebSeedPool } from '../webseed/web-seed-pool.ts';
import type { DownloadScheduler } from './download-scheduler.ts';
import { WebSeedSource } from './web-seed-source.ts';

export interface WebSeedSetup {
  urls: readonly string[];
  meta: Metainfo;
  picker: PiecePicker;
  download: DownloadScheduler;
  /** Requests are made only while this holds (the session is downloading). */
  active: () => boolean;
  warn: (message: string) => void;
}

/** The source, not yet pumped; null when no URL was given or none is usable. */
export function makeWebSeedSource(setup: WebSeedSetup): WebSeedSource | null {
  const { urls, meta, download, warn } = setup;
  if (urls.length === 0) return null;
  const { pool, refused } = WebSeedPool.fromUrls(urls, meta);
  for (const { url, reason } of refused) warn(`web seed ${url} ignored: ${reason}`);
  if (pool.seeds.length === 0) return null;
  return new WebSeedSource({
    pool,
    picker: setup.picker,
    pieceLength: meta.pieceLength,
    active: setup.active,
    freeBuffers: () => download.freeBuffers(),
    deliver: (id, index, begin, block) => download.acceptBlock(id, index, begin, block),
    limiter: download.limiter,
    warn,
  });
}
