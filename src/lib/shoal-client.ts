/**
 * ShoalClient: the engine as a library. Many torrents on one listening port
 * and one hash pool (the daemon's TorrentManager), with no RPC, no printing
 * and no process exits: results are values, progress is events, failures are
 * ShoalError subclasses carrying the CLI's exit-code family
 * (UsageError, InputError, NetworkError, DiskError, VerifyError).
 *
 * ```ts
 * import { ShoalClient } from 'shoal';
 * const client = await ShoalClient.open({ downloadDir: './downloads' });
 * const torrent = await client.add({ metainfo: await readFile('x.torrent') });
 * await client.waitForCompletion(torrent.id);
 * await client.close();
 * ```
 */
import { InputError, NetworkError } from '../core/errors.ts';
import type { EncryptionPolicy } from '../core/transport/mse/policy.ts';
import type { ManagedTorrent } from '../core/daemon/managed-torrent.ts';
import { TorrentManager, type AddOptions } from '../core/daemon/torrent-manager.ts';

export interface ShoalClientOptions {
  /** Where downloads go unless `add` says otherwise. */
  downloadDir: string;
  /** Keep the torrent list here so a later `open` brings it back (default: keep nothing). */
  stateDir?: string;
  /** Peer listening port (default 0: any free port). */
  port?: number;
  /** Find peers through the DHT (default true). */
  dht?: boolean;
  /** Hashing threads (default: one per core). */
  threads?: number;
  /** Encrypted connections (MSE): prefer (default), require, or off (plaintext only). */
  encryption?: EncryptionPolicy;
}

/** A .torrent's bytes, a path to one, or a magnet link / info-hash. */
export type TorrentInput = { metainfo: Uint8Array } | { file: string } | { magnet: string };

/** A torrent's state, as plain data. */
export interface TorrentInfo {
  id: number;
  infoHash: string;
  name: string;
  activity: ManagedTorrent['activity'];
  downloadDir: string;
  /** 0..1 of the wanted data verified (0 while a magnet fetches its metadata). */
  progress: number;
  downloaded: number;
  uploaded: number;
  downloadRate: number;
  uploadRate: number;
  peers: number;
  error: string | null;
}

export class ShoalClient {
  readonly #manager: TorrentManager;

  private constructor(manager: TorrentManager) {
    this.#manager = manager;
  }

  /** Starts listening (and reads `stateDir`, whose lock it takes). */
  static async open(options: ShoalClientOptions): Promise<ShoalClient> {
    const manager = await TorrentManager.open({
      stateDir: options.stateDir ?? null,
      downloadDir: options.downloadDir,
      port: options.port ?? 0,
      dht: options.dht ?? true,
      threads: options.threads,
      encryption: options.encryption,
      version: 'library',
    });
    return new ShoalClient(manager);
  }

  /** The peer listening port. */
  get port(): number {
    return this.#manager.port;
  }

  /** Adds a torrent (started unless `paused`); an info-hash already present returns that torrent. */
  async add(input: TorrentInput, options: AddOptions = {}): Promise<ManagedTorrent> {
    const source = 'file' in input ? { metainfo: await readTorrentFile(input.file) } : input;
    const { torrent } = await this.#manager.add(source, { paused: false, ...options });
    return torrent;
  }

  /** Every torrent; each is an EventEmitter of progress, activity, peer-connected, complete, error. */
  torrents(): ManagedTorrent[] {
    return this.#manager.list();
  }

  info(id: number): TorrentInfo {
    const torrent = this.#get(id);
    const stats = torrent.stats();
    const total = stats?.totalWanted ?? 0;
    return {
      id,
      infoHash: torrent.record.hash,
      name: torrent.meta?.name ?? torrent.record.name,
      activity: torrent.activity,
      downloadDir: torrent.record.downloadDir,
      progress: stats ? (total > 0 ? stats.haveWanted / total : 1) : torrent.needsData ? 0 : 1,
      downloaded: torrent.downloadedEver,
      uploaded: torrent.uploadedEver,
      downloadRate: stats?.downloadRate ?? 0,
      uploadRate: stats?.uploadRate ?? 0,
      peers: stats?.peers ?? 0,
      error: torrent.record.errorString || null,
    };
  }

  pause(id: number): Promise<void> {
    return this.#manager.stop([this.#get(id).id]);
  }

  resume(id: number): Promise<void> {
    return this.#manager.start([this.#get(id).id]);
  }

  remove(id: number, options: { deleteData?: boolean } = {}): Promise<void> {
    return this.#manager.remove([this.#get(id).id], options);
  }

  /** Downloads only the files whose indexes are given (restarts the torrent, which resumes). */
  selectFiles(id: number, indexes: readonly number[]): Promise<void> {
    const torrent = this.#get(id);
    const count = torrent.meta?.files.length ?? 0;
    const keep = new Set(indexes);
    return this.#manager.set([id], (record) => {
      record.unwanted = [...Array(count).keys()].filter((i) => !keep.has(i));
      return true;
    });
  }

  /** Checks every piece on disk again by SHA-1. */
  verify(id: number): Promise<void> {
    return this.#manager.verify([this.#get(id).id]);
  }

  /** Resolves once every wanted piece is verified; rejects with the torrent's error or a NetworkError on timeout. */
  waitForCompletion(id: number, options: { timeoutMs?: number } = {}): Promise<TorrentInfo> {
    const torrent = this.#get(id);
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        torrent.off('complete', onComplete);
        torrent.off('error', onError);
        if (error) reject(error);
        else resolve(this.info(id));
      };
      const onComplete = () => finish();
      const onError = (error: Error) => finish(error);
      const timer = setTimeout(
        () => finish(new NetworkError(`${torrent.record.name} not complete in time`)),
        options.timeoutMs ?? 2 ** 31 - 1,
      );
      torrent.on('complete', onComplete);
      torrent.on('error', onError);
      if (torrent.record.doneDate && !torrent.needsData) finish();
    });
  }

  /** Stops every torrent (saving resume state) and releases the port and threads. */
  close(): Promise<void> {
    return this.#manager.close();
  }

  #get(id: number): ManagedTorrent {
    const torrent = this.#manager.get(id);
    if (!torrent) throw new InputError(`no torrent with id ${id}`);
    return torrent;
  }
}

async function readTorrentFile(file: string): Promise<Uint8Array> {
  const { loadSource } = await import('../core/source/load-source.ts');
  const source = await loadSource(file);
  if (source.kind !== 'torrent') throw new InputError(`${file} is not a .torrent file`);
  return source.bytes;
}
