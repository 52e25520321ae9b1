/**
 * A TEST backend for the RPC server: torrents kept in memory, nothing
 * downloaded, nothing written. It records what the server asked of it so
 * tests can check that a request reached (or never reached) the backend.
 * The real backend arrives with the daemon (issue #14/#20).
 */
import { parseTorrent, toHex, toMagnet } from '../../src/core/metainfo/index.ts';
import type {
  AddRequest,
  AddResult,
  QueueMove,
  RpcBackend,
  RpcTorrent,
  SessionStats,
  TorrentChanges,
} from '../../src/core/rpc/backend.ts';
import { RpcRefusal, TorrentStatus } from '../../src/core/rpc/backend.ts';

export interface BackendCall {
  method: string;
  ids?: number[];
  detail?: unknown;
}

export class MemoryBackend implements RpcBackend {
  readonly calls: BackendCall[] = [];
  readonly torrents = new Map<number, RpcTorrent>();
  readonly removed: number[] = [];
  settings: Record<string, unknown>;
  closed = false;
  #nextId = 1;

  constructor(downloadDir: string) {
    this.settings = {
      'download-dir': downloadDir,
      'speed-limit-down': 100,
      'speed-limit-down-enabled': false,
      'speed-limit-up': 100,
      'speed-limit-up-enabled': false,
      'peer-port': 51413,
      'peer-limit-global': 200,
      'peer-limit-per-torrent': 50,
      'dht-enabled': true,
      'pex-enabled': true,
      'lpd-enabled': false,
      'utp-enabled': false,
      encryption: 'preferred',
      seedRatioLimit: 2,
      seedRatioLimited: false,
      'download-queue-enabled': true,
      'download-queue-size': 5,
      'seed-queue-enabled': false,
      'seed-queue-size': 10,
      'start-added-torrents': true,
      'incomplete-dir': downloadDir,
      'incomplete-dir-enabled': false,
      'config-dir': '/nonexistent/shoal-test',
    };
  }

  async list(): Promise<RpcTorrent[]> {
    return [...this.torrents.values()].sort((a, b) => a.id - b.id);
  }

  async recentlyRemoved(): Promise<number[]> {
    return [...this.removed];
  }

  async add(request: AddRequest): Promise<AddResult> {
    this.calls.push({ method: 'add', detail: request });
    if (!('metainfo' in request.source)) {
      throw new RpcRefusal('the test backend adds .torrent files only');
    }
    const info = parseTorrent(request.source.metainfo);
    const hashString = toHex(info.infoHash ?? info.infoHashV2!.subarray(0, 20));
    const existing = [...this.torrents.values()].find((t) => t.hashString === hashString);
    if (existing) return { torrent: existing, duplicate: true };
    const now = Math.floor(Date.now() / 1000);
    const files = info.files.filter((f) => !f.padding);
    const torrent: RpcTorrent = {
      id: this.#nextId++,
      hashString,
      name: info.name,
      status: request.paused ? TorrentStatus.stopped : TorrentStatus.downloading,
      error: 0,
      errorString: '',
      downloadDir: request.downloadDir,
      hasMetadata: true,
      metadataPercentComplete: 1,
      totalSize: info.totalSize,
      pieceCount: info.pieceCount,
      pieceSize: info.pieceLength,
      pieces: new Uint8Array(Math.ceil(info.pieceCount / 8)),
      haveValid: 0,
      haveUnchecked: 0,
      sizeWhenDone: info.totalSize,
      leftUntilDone: info.totalSize,
      files: files.map((f) => ({
        name: info.multiFile ? [info.name, ...f.path].join('/') : info.name,
        length: f.length,
        bytesCompleted: 0,
        wanted: true,
        priority: 0,
      })),
      isPrivate: info.private,
      comment: info.comment ?? '',
      creator: info.createdBy ?? '',
      dateCreated: info.creationDate ? Math.floor(info.creationDate.getTime() / 1000) : 0,
      addedDate: now,
      startDate: request.paused ? 0 : now,
      doneDate: 0,
      activityDate: now,
      downloadedEver: 0,
      uploadedEver: 0,
      corruptEver: 0,
      rateDownload: 0,
      rateUpload: 0,
      recheckProgress: 0,
      secondsDownloading: 0,
      secondsSeeding: 0,
      queuePosition: this.torrents.size,
      peers: [],
      trackers: info.trackers.flatMap((tier, t) =>
        tier.map((announce) => ({
          announce,
          tier: t,
          lastAnnounceTime: 0,
          lastAnnounceSucceeded: false,
          lastAnnounceResult: '',
          lastAnnouncePeerCount: 0,
          nextAnnounceTime: 0,
          seederCount: -1,
          leecherCount: -1,
          downloadCount: -1,
        })),
      ),
      webseeds: info.webSeeds,
      labels: request.labels,
      magnetLink: toMagnet(info),
      torrentFile: '',
      downloadLimit: 100,
      downloadLimited: false,
      uploadLimit: 100,
      uploadLimited: false,
      honorsSessionLimits: true,
      bandwidthPriority: request.bandwidthPriority ?? 0,
      peerLimit: request.peerLimit ?? 50,
      seedRatioLimit: 2,
      seedRatioMode: 0,
      seedIdleLimit: 30,
      seedIdleMode: 0,
    };
    this.torrents.set(torrent.id, torrent);
    return { torrent, duplicate: false };
  }

  #each(method: string, ids: number[], change: (t: RpcTorrent) => void, detail?: unknown): void {
    this.calls.push({ method, ids, detail });
    for (const id of ids) {
      const torrent = this.torrents.get(id);
      if (torrent) change(torrent);
    }
  }

  async start(ids: number[], options: { now: boolean }): Promise<void> {
    this.#each('start', ids, (t) => (t.status = TorrentStatus.downloading), options);
  }

  async stop(ids: number[]): Promise<void> {
    this.#each('stop', ids, (t) => (t.status = TorrentStatus.stopped));
  }

  async verify(ids: number[]): Promise<void> {
    this.#each('verify', ids, (t) => (t.status = TorrentStatus.checkWait));
  }

  async reannounce(ids: number[]): Promise<void> {
    this.#each('reannounce', ids, () => {});
  }

  async remove(ids: number[], options: { deleteData: boolean }): Promise<void> {
    this.#each(
      'remove',
      ids,
      (t) => {
        this.torrents.delete(t.id);
        this.removed.push(t.id);
      },
      options,
    );
  }

  async set(ids: number[], changes: TorrentChanges): Promise<void> {
    this.#each(
      'set',
      ids,
      (t) => {
        if (changes.labels) t.labels = changes.labels;
        if (changes.downloadLimit !== undefined) t.downloadLimit = changes.downloadLimit;
        if (changes.downloadLimited !== undefined) t.downloadLimited = changes.downloadLimited;
        if (changes.uploadLimit !== undefined) t.uploadLimit = changes.uploadLimit;
        if (changes.uploadLimited !== undefined) t.uploadLimited = changes.uploadLimited;
        if (changes.seedRatioLimit !== undefined) t.seedRatioLimit = changes.seedRatioLimit;
        if (changes.seedRatioMode !== undefined) t.seedRatioMode = changes.seedRatioMode;
      },
      changes,
    );
  }

  async setLocation(ids: number[], location: string, options: { move: boolean }): Promise<void> {
    this.#each('setLocation', ids, (t) => (t.downloadDir = location), { location, ...options });
  }

  async queueMove(ids: number[], where: QueueMove): Promise<void> {
    this.#each('queueMove', ids, () => {}, where);
  }

  async session(): Promise<Record<string, unknown>> {
    return { ...this.settings };
  }

  async setSession(changes: Record<string, unknown>): Promise<void> {
    this.calls.push({ method: 'setSession', detail: changes });
    Object.assign(this.settings, changes);
  }

  async stats(): Promise<SessionStats> {
    const all = await this.list();
    const transfer = {
      uploadedBytes: 0,
      downloadedBytes: 0,
      filesAdded: all.length,
      sessionCount: 1,
      secondsActive: 0,
    };
    return {
      activeTorrentCount: all.filter((t) => t.status !== TorrentStatus.stopped).length,
      pausedTorrentCount: all.filter((t) => t.status === TorrentStatus.stopped).length,
      torrentCount: all.length,
      downloadSpeed: 0,
      uploadSpeed: 0,
      cumulative: transfer,
      current: transfer,
    };
  }

  async freeSpace(): Promise<{ free: number; total: number }> {
    return { free: 1e12, total: 2e12 };
  }

  async close(): Promise<void> {
    this.calls.push({ method: 'close' });
    this.closed = true;
  }
}
