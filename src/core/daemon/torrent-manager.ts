/**
 * Many torrents in one process: one Client (one listening port, one
 * transport, incoming connections routed by info-hash), one HashPool, and
 * the queue that decides which torrents run (Transmission's
 * `download-queue-size` and `seed-queue-size`). The daemon's RPC backend and
 * the library's ShoalClient are both thin layers over this.
 *
 * With a state directory every change is saved there at once (state-store.ts):
 * after `kill -9` and a restart every torrent comes back as it was (running
 * ones run again and resume from their resume state, stopped ones stay
 * stopped, queued ones queue). Without one (a library user's choice) nothing
 * is kept.
 *
 * The queue's decisions are queue.ts's, a run's limits run-limits.ts's.
 */
import { EventEmitter } from 'node:events';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { addPieceLayersToTorrentFile } from '../session/piece-layer-torrent.ts';
import { Client } from '../client/client.ts';
import { DEFAULT_ENCRYPTION, type EncryptionPolicy } from '../transport/mse/index.ts';
import { encryptionPolicy, encryptionSetting } from './encryption-setting.ts';
import { InputError, UsageError } from '../errors.ts';
import { HashPool } from '../hashing/pool.ts';
import { parseInfoHashOrMagnet, parseTorrent } from '../metainfo/index.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { torrentRoot } from '../script/outcome.ts';
import { hashKey, ManagedTorrent, type TorrentEnvironment } from './managed-torrent.ts';
import type { QueueMove } from '../rpc/backend.ts';
import { moveInQueue, queueDecisions } from './queue.ts';
import { runLimits } from './run-limits.ts';
import { defaultSettings, mergeSettings, type DaemonSettings } from './settings.ts';
import { StateStore } from './state-store.ts';
import { makeDirectoryOrRefuse } from '../storage/out-dir.ts';
import { newRecord, type TorrentRecord } from './torrent-record.ts';

export interface TorrentManagerOptions {
  /** Where the torrent list, settings and metainfo are kept; null keeps nothing. */
  stateDir: string | null;
  /** Default download directory (settings.json's `download-dir` wins once saved). */
  downloadDir: string;
  /** Peer listening port (0: any free port). */
  port: number;
  /** Use the DHT for public torrents. */
  dht: boolean;
  dhtBootstrap?: string[];
  /** Hashing threads (default: one per core). */
  threads?: number;
  /** MSE policy (`--encryption`); given, it replaces the saved `encryption` setting. */
  encryption?: EncryptionPolicy;
  version: string;
  /** Most time a magnet looks for its metadata before it is marked failed (default 1 day). */
  metadataTimeoutMs?: number;
}

export type TorrentSource = { metainfo: Uint8Array } | { magnet: string };

export interface AddOptions {
  downloadDir?: string;
  /** Added stopped (default: the `start-added-torrents` setting). */
  paused?: boolean;
  labels?: string[];
  /** File indexes not to download. */
  unwanted?: number[];
  priorities?: Record<number, -1 | 0 | 1>;
  peerLimit?: number;
  bandwidthPriority?: -1 | 0 | 1;
}

interface ManagerEvents {
  added: [torrent: ManagedTorrent];
  removed: [id: number];
  /** Something worth a line in the daemon's log. */
  log: [line: string];
}

/** How often counters (bytes up and down) are saved while torrents run. */
const SAVE_INTERVAL_MS = 15_000;

export class TorrentManager extends EventEmitter<ManagerEvents> {
  readonly client: Client;
  readonly hashPool: HashPool;
  readonly store: StateStore | null;
  settings: DaemonSettings;
  readonly #options: TorrentManagerOptions;
  readonly #torrents = new Map<number, ManagedTorrent>();
  #nextId = 1;
  readonly #removed: { id: number; at: number }[] = [];
  #saveTimer: NodeJS.Timeout | null = null;
  #closed = false;
  readonly startedAt = Date.now();

  private constructor(options: TorrentManagerOptions, store: StateStore | null) {
    super();
    this.#options = options;
    this.store = store;
    this.settings = defaultSettings(path.resolve(options.downloadDir));
    this.settings['dht-enabled'] = options.dht;
    this.hashPool = new HashPool({ threads: options.threads });
    this.client = new Client({ port: options.port, hashPool: this.hashPool });
  }

  /**
   * Takes the state directory (a second manager on it refuses: UsageError,
   * exit 2), starts listening, and brings back every torrent it lists.
   */
  static async open(options: TorrentManagerOptions): Promise<TorrentManager> {
    const store = options.stateDir ? new StateStore(options.stateDir) : null;
    await store?.open();
    const manager = new TorrentManager(options, store);
    try {
      if (store) await manager.#load(store);
      if (options.encryption) manager.settings.encryption = encryptionSetting(options.encryption);
      manager.client.encryption =
        encryptionPolicy(manager.settings.encryption) ?? DEFAULT_ENCRYPTION;
      makeDirectoryOrRefuse(manager.settings['download-dir']);
      await manager.client.start();
    } catch (error) {
      await manager.close();
      throw error;
    }
    manager.#schedule();
    manager.#saveTimer = setInterval(() => void manager.save(), SAVE_INTERVAL_MS);
    manager.#saveTimer.unref();
    return manager;
  }

  /** The peer port. */
  get port(): number {
    return this.client.port;
  }

  /** Every torrent, in id order. */
  list(): ManagedTorrent[] {
    return [...this.#torrents.values()].sort((a, b) => a.id - b.id);
  }

  get(id: number): ManagedTorrent | undefined {
    return this.#torrents.get(id);
  }

  byHash(hash: string): ManagedTorrent | undefined {
    const key = hash.toLowerCase();
    return this.list().find((t) => t.record.hash === key);
  }

  /** Ids removed in the last minute. */
  recentlyRemoved(): number[] {
    const since = Date.now() - 60_000;
    return this.#removed.filter((r) => r.at >= since).map((r) => r.id);
  }

  /**
   * Adds a .torrent (bytes) or a magnet link / info-hash. An info-hash
   * already present is not added twice: that torrent comes back with
   * `duplicate`. Bad input is an InputError (exit 3).
   */
  async add(
    source: TorrentSource,
    options: AddOptions = {},
  ): Promise<{ torrent: ManagedTorrent; duplicate: boolean }> {
    this.#refuseIfClosed();
    let meta: Metainfo | null = null;
    let magnet: string | null = null;
    let hash: string;
    let name: string;
    if ('metainfo' in source) {
      meta = parseTorrent(source.metainfo);
      hash = hashKey(meta);
      name = meta.name;
    } else {
      const link = parseInfoHashOrMagnet(source.magnet);
      const wire = link.infoHash ?? link.infoHashV2?.subarray(0, 20);
      if (!wire) throw new InputError('the magnet link has no info-hash');
      hash = Buffer.from(wire).toString('hex');
      magnet = source.magnet;
      name = link.name ?? hash;
    }
    const existing = this.byHash(hash);
    if (existing) return { torrent: existing, duplicate: true };
    const downloadDir = path.resolve(options.downloadDir ?? this.settings['download-dir']);
    makeDirectoryOrRefuse(downloadDir);
    const record = newRecord({
      id: this.#nextId++,
      hash,
      magnet,
      name,
      downloadDir,
      paused: options.paused ?? !this.settings['start-added-torrents'],
      labels: options.labels ?? [],
      unwanted: options.unwanted ?? [],
      priorities: Object.fromEntries(
        Object.entries(options.priorities ?? {}).map(([k, v]) => [k, v]),
      ),
      peerLimit: options.peerLimit ?? this.settings['peer-limit-per-torrent'],
      bandwidthPriority: options.bandwidthPriority ?? 0,
      queuePosition: this.#torrents.size,
    });
    if (meta && 'metainfo' in source) await this.store?.saveMetainfo(hash, source.metainfo);
    const torrent = this.#adopt(record, meta);
    await this.save();
    this.emit('added', torrent);
    this.emit('log', `added ${record.name} (${hash})`);
    this.#schedule();
    return { torrent, duplicate: false };
  }

  /** Starts torrents; `now` skips the queue (torrent-start-now). */
  async start(ids: number[], options: { now?: boolean } = {}): Promise<void> {
    for (const torrent of this.#each(ids)) {
      torrent.record.paused = false;
      torrent.record.errorString = '';
      if (options.now) torrent.start();
    }
    await this.save();
    this.#schedule();
  }

  async stop(ids: number[]): Promise<void> {
    const torrents = this.#each(ids);
    for (const torrent of torrents) torrent.record.paused = true;
    await Promise.all(torrents.map((t) => t.stop()));
    await this.save();
    this.#schedule();
  }

  async verify(ids: number[]): Promise<void> {
    await Promise.all(this.#each(ids).map((t) => t.verify()));
  }

  async remove(ids: number[], options: { deleteData?: boolean } = {}): Promise<void> {
    for (const torrent of this.#each(ids)) {
      // Out of the list before it stops: its stop emits events that run the scheduler, which
      // would start it again (it is not paused) and keep the folder's lock after the remove.
      this.#torrents.delete(torrent.id);
      await torrent.stop();
      this.#removed.push({ id: torrent.id, at: Date.now() });
      if (this.#removed.length > 1000) this.#removed.shift();
      await this.store?.removeMetainfo(torrent.record.hash);
      if (options.deleteData) await deleteData(torrent);
      this.emit('removed', torrent.id);
      this.emit(
        'log',
        `removed ${torrent.record.name}${options.deleteData ? ' and its data' : ''}`,
      );
    }
    this.#renumberQueue();
    await this.save();
    this.#schedule();
  }

  /**
   * Changes a torrent's settings. Changes that the running session cannot
   * take on (limits, file selection, trackers) restart it; it resumes where it was.
   */
  async set(ids: number[], change: (record: TorrentRecord) => boolean): Promise<void> {
    const restart: ManagedTorrent[] = [];
    for (const torrent of this.#each(ids)) {
      if (change(torrent.record) && torrent.running) restart.push(torrent);
    }
    await Promise.all(restart.map((t) => t.stop()));
    for (const torrent of restart) if (!torrent.record.paused) torrent.start();
    await this.save();
    this.#schedule();
  }

  /**
   * Points torrents at another directory. With `move` their data moves there
   * (a rename, so within one file system) in the background; without, the
   * data is looked for there. Either way the next run checks what it finds.
   */
  async setLocation(ids: number[], location: string, options: { move: boolean }): Promise<void> {
    const target = path.resolve(location);
    makeDirectoryOrRefuse(target);
    const moves = this.#each(ids).map(async (torrent) => {
      const wasRunning = torrent.running;
      await torrent.stop();
      if (options.move && torrent.meta && torrent.record.downloadDir !== target) {
        try {
          await torrent.forgetResumeState();
          await rename(
            torrentRoot(torrent.meta, torrent.record.downloadDir),
            torrentRoot(torrent.meta, target),
          );
        } catch (error) {
          torrent.record.errorString = `cannot move the data to ${target}: ${(error as Error).message}`;
        }
      }
      if (!torrent.record.errorString) torrent.record.downloadDir = target;
      await this.save();
      if (wasRunning && !torrent.record.paused) torrent.start();
    });
    // Moving runs in the background: the RPC answers at once and keeps answering.
    void Promise.all(moves).then(() => this.#schedule());
  }

  async queueMove(ids: number[], where: QueueMove): Promise<void> {
    const moving = ids.flatMap((id) => this.#torrents.get(id) ?? []);
    moveInQueue(this.#inQueueOrder(), moving, where).forEach(
      (torrent, position) => (torrent.record.queuePosition = position),
    );
    await this.save();
    this.#schedule();
  }

  /** Applies session settings (already checked by the caller) and saves them. */
  async setSettings(changes: Record<string, unknown>): Promise<void> {
    this.settings = mergeSettings(this.settings, changes);
    await this.store?.saveSettings({ ...this.settings });
    await this.#applyEncryption();
    this.#schedule();
  }

  /** SIGHUP: settings.json is read again and applied. */
  async reload(): Promise<void> {
    if (!this.store) return;
    this.settings = mergeSettings(this.settings, await this.store.readSettings());
    this.emit('log', 'settings reloaded');
    await this.#applyEncryption();
    this.#schedule();
  }

  /**
   * Puts the `encryption` setting into force: the client accepts and dials
   * with the new policy from now on, and running torrents restart so that
   * every connection they make follows it (an unknown value keeps the old one).
   */
  async #applyEncryption(): Promise<void> {
    const policy = encryptionPolicy(this.settings.encryption);
    if (!policy || policy === this.client.encryption) return;
    this.client.encryption = policy;
    const running = this.list().filter((t) => t.running);
    await Promise.all(running.map((t) => t.stop()));
    for (const torrent of running) if (!torrent.record.paused) torrent.start();
  }

  /** Saves the torrent list (counters included). */
  async save(): Promise<void> {
    if (!this.store) return;
    const records = this.list().map((t) => ({
      ...t.record,
      downloadedEver: t.downloadedEver,
      uploadedEver: t.uploadedEver,
    }));
    try {
      await this.store.saveTorrents({ nextId: this.#nextId, torrents: records });
    } catch (error) {
      this.emit('log', `cannot save the torrent list: ${(error as Error).message}`);
    }
  }

  /** Stops every torrent (each saves its resume state), saves the list, releases everything. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#saveTimer) clearInterval(this.#saveTimer);
    // The list first: what should run after a restart is what ran before this close.
    await this.save();
    await Promise.all(this.list().map((t) => t.stop()));
    await this.save();
    await this.client.close();
    await this.hashPool.destroy();
    await this.store?.close();
  }

  // ---------------------------------------------------------------- internals

  async #load(store: StateStore): Promise<void> {
    this.settings = mergeSettings(this.settings, await store.readSettings());
    const { nextId, torrents } = await store.readTorrents();
    this.#nextId = Math.max(nextId, 1);
    for (const saved of torrents) {
      const record = newRecord(saved);
      let meta: Metainfo | null = null;
      const bytes = await store.readMetainfo(record.hash);
      if (bytes) {
        try {
          meta = parseTorrent(bytes);
        } catch (error) {
          record.errorString = `stored metainfo is unreadable: ${(error as Error).message}`;
        }
      }
      if (!meta && !record.magnet && !record.errorString) record.errorString = 'metainfo missing';
      this.#adopt(record, meta);
      this.#nextId = Math.max(this.#nextId, record.id + 1);
    }
  }

  #adopt(record: TorrentRecord, meta: Metainfo | null): ManagedTorrent {
    const torrent = new ManagedTorrent(record, meta, this.#environment());
    torrent.on('ended', () => {
      void this.save();
      this.#schedule();
    });
    torrent.on('activity', () => this.#schedule());
    torrent.on('metadata', () => void this.save());
    torrent.on('complete', () => {
      void this.save();
      this.emit('log', `${torrent.record.name} complete`);
    });
    torrent.on('error', (error) => this.emit('log', `${torrent.record.name}: ${error.message}`));
    this.#torrents.set(record.id, torrent);
    return torrent;
  }

  #environment(): TorrentEnvironment {
    const options = this.#options;
    return {
      client: this.client,
      hashPool: this.hashPool,
      version: options.version,
      // One DHT node for every torrent: the client's, made when the first torrent wants it.
      dht: this.settings['dht-enabled']
        ? {
            node: () => this.client.dhtNode({ bootstrap: options.dhtBootstrap, port: 0 }),
          }
        : false,
      limits: (record) =>
        runLimits(record, this.settings, this.list().filter((t) => t.running).length),
      saveMetainfo: async (hash, bytes) => {
        await this.store?.saveMetainfo(hash, bytes);
      },
      keepPieceLayers: async (hash, meta, completeIn) => {
        const finished = completeIn ? { outDir: completeIn, pool: this.hashPool } : undefined;
        if (this.store)
          await addPieceLayersToTorrentFile(this.store.metainfoPath(hash), meta, finished);
      },
      metadataTimeoutMs: options.metadataTimeoutMs ?? 24 * 3600_000,
    };
  }

  /** Starts what the queue lets run now (queue.ts decides) and marks the rest queued. */
  #schedule(): void {
    if (this.#closed) return;
    const entries = this.list().map((torrent) => ({
      torrent,
      queuePosition: torrent.record.queuePosition,
      paused: torrent.record.paused,
      running: torrent.running,
      needsData: torrent.needsData,
      failed: Boolean(torrent.record.errorString) && torrent.activity === 'error',
    }));
    const { start, queued } = queueDecisions(entries, this.settings);
    for (const { torrent } of queued) torrent.queued = true;
    for (const { torrent } of start) torrent.start();
  }

  #each(ids: number[]): ManagedTorrent[] {
    this.#refuseIfClosed();
    return ids.flatMap((id) => this.#torrents.get(id) ?? []);
  }

  #renumberQueue(): void {
    this.#inQueueOrder().forEach((torrent, position) => (torrent.record.queuePosition = position));
  }

  #inQueueOrder(): ManagedTorrent[] {
    return this.list().sort((a, b) => a.record.queuePosition - b.record.queuePosition);
  }

  #refuseIfClosed(): void {
    if (this.#closed) throw new UsageError('the torrent manager is closed');
  }
}

/** torrent-remove with delete-local-data: the torrent's files (or folder) and its resume state. */
async function deleteData(torrent: ManagedTorrent): Promise<void> {
  await torrent.forgetResumeState();
  if (!torrent.meta) return;
  // Names come from the sanitized metainfo: the root is always inside the download directory.
  await rm(torrentRoot(torrent.meta, torrent.record.downloadDir), {
    recursive: true,
    force: true,
  });
}
