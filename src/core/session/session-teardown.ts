/**
 * How a session's parts are let go at its end, in an order that loses
 * nothing: sources stop first, pieces being verified are written, peers and
 * the client go, then the data is synced and the resume state saved before
 * storage closes and the folder's lock ends. The session decides when;
 * this is only the order.
 */
import type { ClientTorrent } from '../client/client.ts';
import type { DiscoveryHub } from '../discovery/hub.ts';
import { closeHandedOff, type HandedOffPeer } from '../metadata/hand-off.ts';
import type { DiskStorage } from '../storage/disk-storage.ts';
import type { PiecePicker } from '../swarm/piece-picker.ts';
import type { DownloadScheduler } from './download-scheduler.ts';
import type { PeerPool } from './peer-pool.ts';
import type { PieceLayerPhase } from './piece-layer-phase.ts';
import type { SessionClient } from './session-client.ts';
import type { SessionResume } from './session-resume.ts';
import type { WebSeedSource } from './web-seed-source.ts';

export interface TeardownParts {
  torrent: ClientTorrent;
  client: SessionClient;
  webSeeds: WebSeedSource | null;
  layers: PieceLayerPhase;
  download: DownloadScheduler;
  discovery: DiscoveryHub;
  /** A magnet's connections handed over by its metadata fetch. */
  handedOff: readonly HandedOffPeer[];
  pool: PeerPool;
  picker: PiecePicker;
  storage: DiskStorage;
  resume: SessionResume;
  warn: (message: string) => void;
}

export async function tearDown(parts: TeardownParts): Promise<void> {
  const { picker, storage, resume } = parts;
  parts.client.leave(parts.torrent);
  parts.webSeeds?.stop();
  parts.layers.stop();
  // Pieces being verified right now finish (and are written) before we close storage.
  await parts.download.settle();
  await parts.discovery.stop();
  // Connections handed over but never adopted (stopped before the download began).
  closeHandedOff(parts.handedOff, 'shutting down');
  parts.pool.stop('shutting down');
  await parts.client.close();
  try {
    // An interrupted download's pieces are synced before its resume state is saved;
    // a complete one leaves writing back to the kernel (see DiskStorage.finish).
    if (!picker.isComplete()) await storage.flush();
    await resume.save(picker.isComplete(), parts.warn);
  } finally {
    await storage.close();
    // Whatever failed above, this session's lock on the folder ends with it.
    await resume.release();
  }
}
