/**
 * The RPC backend over the torrent manager: what `shoal daemon` plugs into
 * the Transmission-RPC server (rpc/server.ts). The server has already checked
 * every argument, path and id; this only translates between the protocol's
 * units (kB/s, Transmission's names) and the manager's.
 */
import { statfs } from 'node:fs/promises';
import { ShoalError } from '../errors.ts';
import {
  RpcRefusal,
  TorrentStatus,
  type AddRequest,
  type AddResult,
  type QueueMove,
  type RpcBackend,
  type RpcTorrent,
  type SessionStats,
  type TorrentChanges,
} from '../rpc/backend.ts';
import { loadSource } from '../source/load-source.ts';
import { encryptionPolicy } from './encryption-setting.ts';
import type { TorrentRecord } from './torrent-record.ts';
import type { TorrentManager, TorrentSource } from './torrent-manager.ts';
import { toRpcTorrent } from './rpc-view.ts';

export class DaemonBackend implements RpcBackend {
  readonly #manager: TorrentManager;
  readonly #onClose: () => void;

  /** `onClose` runs after session-close has been answered: the daemon shuts down. */
  constructor(manager: TorrentManager, onClose: () => void) {
    this.#manager = manager;
    this.#onClose = onClose;
  }

  async list(): Promise<RpcTorrent[]> {
    const store = this.#manager.store;
    return this.#manager.list().map((torrent) =>
      toRpcTorrent(torrent, {
        torrentFile: store && torrent.meta ? store.metainfoPath(torrent.record.hash) : '',
      }),
    );
  }

  async recentlyRemoved(): Promise<number[]> {
    return this.#manager.recentlyRemoved();
  }

  async add(request: AddRequest): Promise<AddResult> {
    const source = await this.#source(request.source);
    const unwanted = request.filesUnwanted ?? [];
    const priorities: Record<number, -1 | 0 | 1> = {};
    for (const i of request.priorityHigh ?? []) priorities[i] = 1;
    for (const i of request.priorityLow ?? []) priorities[i] = -1;
    const { torrent, duplicate } = await refusing(() =>
      this.#manager.add(source, {
        downloadDir: request.downloadDir,
        paused: request.paused,
        labels: request.labels,
        unwanted: unwanted.filter((i) => !(request.filesWanted ?? []).includes(i)),
        priorities,
        peerLimit: request.peerLimit,
        bandwidthPriority: request.bandwidthPriority,
      }),
    );
    const [view] = (await this.list()).filter((t) => t.id === torrent.id);
    return { torrent: view, duplicate };
  }

  async #source(source: AddRequest['source']): Promise<TorrentSource> {
    if ('metainfo' in source) return { metainfo: source.metainfo };
    if ('magnet' in source) return { magnet: source.magnet };
    // An http(s) URL: fetched here, bounded in size and time (load-source.ts).
    const loaded = await refusing(() => loadSource(source.url));
    if (loaded.kind !== 'torrent') throw new RpcRefusal(`${source.url} is not a .torrent`);
    return { metainfo: loaded.bytes };
  }

  async start(ids: number[], options: { now: boolean }): Promise<void> {
    await this.#manager.start(ids, options);
  }

  async stop(ids: number[]): Promise<void> {
    await this.#manager.stop(ids);
  }

  async verify(ids: number[]): Promise<void> {
    await this.#manager.verify(ids);
  }

  async reannounce(): Promise<void> {
    // Trackers are asked again on their own schedule; nothing to hurry in this version.
  }

  async remove(ids: number[], options: { deleteData: boolean }): Promise<void> {
    await this.#manager.remove(ids, options);
  }

  async set(ids: number[], changes: TorrentChanges): Promise<void> {
    await this.#manager.set(ids, (record) => applyChanges(record, changes));
  }

  async setLocation(ids: number[], location: string, options: { move: boolean }): Promise<void> {
    await this.#manager.setLocation(ids, location, options);
  }

  async queueMove(ids: number[], where: QueueMove): Promise<void> {
    await this.#manager.queueMove(ids, where);
  }

  async session(): Promise<Record<string, unknown>> {
    return {
      ...this.#manager.settings,
      'peer-port': this.#manager.port,
      'config-dir': this.#manager.store?.dir ?? '',
    };
  }

  async setSession(changes: Record<string, unknown>): Promise<void> {
    if ('encryption' in changes && !encryptionPolicy(changes.encryption)) {
      throw new RpcRefusal('encryption must be "required", "preferred" or "tolerated"');
    }
    await this.#manager.setSettings(changes);
  }

  async stats(): Promise<SessionStats> {
    const all = await this.list();
    const here = this.#manager.list().map((t) => t.transferredHere);
    const seconds = Math.round((Date.now() - this.#manager.startedAt) / 1000);
    const cumulative = {
      uploadedBytes: all.reduce((sum, t) => sum + t.uploadedEver, 0),
      downloadedBytes: all.reduce((sum, t) => sum + t.downloadedEver, 0),
      filesAdded: all.length,
      sessionCount: 1,
      secondsActive: seconds,
    };
    // current-stats: this process only (a restarted daemon starts again from zero).
    const current = {
      ...cumulative,
      uploadedBytes: here.reduce((sum, t) => sum + t.uploaded, 0),
      downloadedBytes: here.reduce((sum, t) => sum + t.downloaded, 0),
    };
    return {
      activeTorrentCount: all.filter((t) => t.status !== TorrentStatus.stopped).length,
      pausedTorrentCount: all.filter((t) => t.status === TorrentStatus.stopped).length,
      torrentCount: all.length,
      downloadSpeed: all.reduce((sum, t) => sum + t.rateDownload, 0),
      uploadSpeed: all.reduce((sum, t) => sum + t.rateUpload, 0),
      cumulative,
      current,
    };
  }

  async freeSpace(path: string): Promise<{ free: number; total: number }> {
    try {
      const fs = await statfs(path);
      return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
    } catch (error) {
      throw new RpcRefusal(`cannot read free space of ${path}: ${(error as Error).message}`);
    }
  }

  async close(): Promise<void> {
    // After the answer is on its way: the server must not be closed under its own reply.
    setTimeout(this.#onClose, 100);
  }
}

/** Applies torrent-set's changes; true when the running session must restart to take them on. */
function applyChanges(record: TorrentRecord, changes: TorrentChanges): boolean {
  let restart = false;
  const limitKb = (value: number) => value * 1000;
  if (changes.labels) record.labels = changes.labels;
  if (changes.bandwidthPriority !== undefined) record.bandwidthPriority = changes.bandwidthPriority;
  if (changes.queuePosition !== undefined) record.queuePosition = changes.queuePosition;
  if (changes.seedIdleLimit !== undefined) record.seedIdleLimit = changes.seedIdleLimit;
  if (changes.seedIdleMode !== undefined) record.seedIdleMode = changes.seedIdleMode;
  const restarting: Partial<TorrentRecord> = {};
  if (changes.downloadLimit !== undefined)
    restarting.downloadLimit = limitKb(changes.downloadLimit);
  if (changes.downloadLimited !== undefined) restarting.downloadLimited = changes.downloadLimited;
  if (changes.uploadLimit !== undefined) restarting.uploadLimit = limitKb(changes.uploadLimit);
  if (changes.uploadLimited !== undefined) restarting.uploadLimited = changes.uploadLimited;
  if (changes.honorsSessionLimits !== undefined)
    restarting.honorsSessionLimits = changes.honorsSessionLimits;
  if (changes.peerLimit !== undefined) restarting.peerLimit = changes.peerLimit;
  if (changes.seedRatioLimit !== undefined) restarting.seedRatioLimit = changes.seedRatioLimit;
  if (changes.seedRatioMode !== undefined) restarting.seedRatioMode = changes.seedRatioMode;
  if (changes.trackerList !== undefined) restarting.trackerList = changes.trackerList;
  if (changes.filesWanted || changes.filesUnwanted) {
    const unwanted = new Set(record.unwanted);
    for (const i of changes.filesWanted ?? []) unwanted.delete(i);
    for (const i of changes.filesUnwanted ?? []) unwanted.add(i);
    restarting.unwanted = [...unwanted].sort((a, b) => a - b);
  }
  for (const [key, value] of Object.entries(restarting)) {
    const field = key as keyof TorrentRecord;
    if (JSON.stringify(record[field]) !== JSON.stringify(value)) {
      (record as unknown as Record<string, unknown>)[field] = value;
      restart = true;
    }
  }
  for (const [list, priority] of [
    [changes.priorityHigh, 1],
    [changes.priorityLow, -1],
    [changes.priorityNormal, 0],
  ] as const) {
    for (const i of list ?? []) record.priorities[i] = priority;
  }
  return restart;
}

/** A ShoalError (bad torrent, unreachable URL...) becomes the RPC refusal a client shows. */
async function refusing<T>(task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (error) {
    if (error instanceof ShoalError) throw new RpcRefusal(error.message);
    throw error;
  }
}
