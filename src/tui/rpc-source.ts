/**
 * The TUI's data over the Transmission RPC (shoal daemon, transmission-daemon,
 * anything that speaks it). Asks only for the fields the screen shows: the
 * list's columns on every poll (`recently-active` between full refreshes),
 * and one tab's fields for the one torrent whose details are open.
 */
import { readFile, stat } from 'node:fs/promises';
import { RpcClient } from '../core/rpc/client.ts';
import type {
  DetailTab,
  Limits,
  ListUpdate,
  SessionInfo,
  TuiDetail,
  TuiFile,
  TuiPeer,
  TuiSource,
  TuiTorrent,
  TuiTracker,
} from './types.ts';

export const LIST_FIELDS = [
  'id',
  'name',
  'status',
  'error',
  'errorString',
  'percentDone',
  'recheckProgress',
  'sizeWhenDone',
  'downloadedEver',
  'uploadedEver',
  'rateDownload',
  'rateUpload',
  'peersConnected',
  'uploadRatio',
  'eta',
  'addedDate',
];

/** Each tab asks for what it draws, nothing more. */
export const TAB_FIELDS: Record<DetailTab, string[]> = {
  files: ['id', 'files', 'fileStats'],
  peers: ['id', 'peers'],
  trackers: ['id', 'trackerStats'],
  pieces: ['id', 'pieceCount', 'pieces'],
};

/** Largest .torrent the add prompt sends (as the rest of shoal reads). */
const MAX_TORRENT_BYTES = 64 * 1024 * 1024;

type Json = Record<string, unknown>;

export class RpcSource implements TuiSource {
  readonly address: string;
  readonly #client: RpcClient;

  constructor(url: string, auth?: string, timeoutMs = 15_000) {
    this.#client = new RpcClient(url, { auth, timeoutMs });
    this.address = new URL(this.#client.url).host;
  }

  async list(full: boolean): Promise<ListUpdate> {
    const args: Json = { fields: LIST_FIELDS };
    if (!full) args.ids = 'recently-active';
    const answer = await this.#client.call('torrent-get', args);
    const torrents = ((answer.torrents as Json[] | undefined) ?? []).map(toTorrent);
    const removed = ((answer.removed as unknown[] | undefined) ?? []).filter(
      (id): id is number => typeof id === 'number',
    );
    return { full, torrents, removed };
  }

  async detail(id: number, tab: DetailTab): Promise<TuiDetail> {
    const answer = await this.#client.call('torrent-get', { ids: [id], fields: TAB_FIELDS[tab] });
    const [t] = (answer.torrents as Json[] | undefined) ?? [];
    const detail: TuiDetail = { id };
    if (!t) return detail;
    if (tab === 'files') detail.files = toFiles(t);
    if (tab === 'peers') detail.peers = ((t.peers as Json[] | undefined) ?? []).map(toPeer);
    if (tab === 'trackers')
      detail.trackers = ((t.trackerStats as Json[] | undefined) ?? []).map(toTracker);
    if (tab === 'pieces')
      detail.pieces = {
        pieceCount: num(t.pieceCount),
        bitfield: Buffer.from(String(t.pieces ?? ''), 'base64'),
      };
    return detail;
  }

  async session(): Promise<SessionInfo> {
    const answer = await this.#client.call('session-get', {
      fields: ['download-dir', 'version'],
    });
    const downloadDir = String(answer['download-dir'] ?? '');
    let freeSpace = -1;
    try {
      const space = await this.#client.call('free-space', { path: downloadDir });
      freeSpace = num(space['size-bytes'], -1);
    } catch {
      // An older server without free-space: the status bar leaves it out.
    }
    return { downloadDir, freeSpace, version: String(answer.version ?? '') };
  }

  async start(ids: number[]): Promise<void> {
    await this.#client.call('torrent-start', { ids });
  }

  async stop(ids: number[]): Promise<void> {
    await this.#client.call('torrent-stop', { ids });
  }

  async verify(ids: number[]): Promise<void> {
    await this.#client.call('torrent-verify', { ids });
  }

  async remove(ids: number[], deleteData: boolean): Promise<void> {
    await this.#client.call('torrent-remove', { ids, 'delete-local-data': deleteData });
  }

  async add(source: string): Promise<void> {
    const text = source.trim();
    if (/^(magnet:|https?:\/\/)/i.test(text)) {
      await this.#client.call('torrent-add', { filename: text });
      return;
    }
    // A local path: sent as data, since the daemon may be on another machine.
    const info = await stat(text).catch(() => undefined);
    if (!info?.isFile()) throw new Error(`no such .torrent file: ${text}`);
    if (info.size > MAX_TORRENT_BYTES) throw new Error(`${text} is larger than 64 MiB`);
    const metainfo = (await readFile(text)).toString('base64');
    await this.#client.call('torrent-add', { metainfo });
  }

  async setWanted(id: number, files: number[], wanted: boolean): Promise<void> {
    await this.#client.call('torrent-set', {
      ids: [id],
      [wanted ? 'files-wanted' : 'files-unwanted']: files,
    });
  }

  async setPriority(id: number, files: number[], priority: number): Promise<void> {
    const key = priority > 0 ? 'priority-high' : priority < 0 ? 'priority-low' : 'priority-normal';
    await this.#client.call('torrent-set', { ids: [id], [key]: files });
  }

  async setLimits(id: number, limits: Limits): Promise<void> {
    // The RPC counts limits in KB/s (kilo = 1024 for speeds, as Transmission's units say).
    await this.#client.call('torrent-set', {
      ids: [id],
      downloadLimited: limits.download !== undefined,
      downloadLimit: Math.max(1, Math.round((limits.download ?? 0) / 1024)),
      uploadLimited: limits.upload !== undefined,
      uploadLimit: Math.max(1, Math.round((limits.upload ?? 0) / 1024)),
    });
  }
}

function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

function toTorrent(t: Json): TuiTorrent {
  return {
    id: num(t.id),
    name: String(t.name ?? ''),
    status: Math.min(6, Math.max(0, num(t.status))) as TuiTorrent['status'],
    error: num(t.error),
    errorString: String(t.errorString ?? ''),
    percentDone: num(t.percentDone),
    recheckProgress: num(t.recheckProgress),
    sizeWhenDone: num(t.sizeWhenDone),
    downloadedEver: num(t.downloadedEver),
    uploadedEver: num(t.uploadedEver),
    rateDownload: num(t.rateDownload),
    rateUpload: num(t.rateUpload),
    peersConnected: num(t.peersConnected),
    uploadRatio: num(t.uploadRatio, -1),
    eta: num(t.eta, -1),
    addedDate: num(t.addedDate),
  };
}

function toFiles(t: Json): TuiFile[] {
  const files = (t.files as Json[] | undefined) ?? [];
  const stats = (t.fileStats as Json[] | undefined) ?? [];
  return files.map((file, index) => ({
    index,
    name: String(file.name ?? ''),
    length: num(file.length),
    bytesCompleted: num(file.bytesCompleted),
    wanted: stats[index]?.wanted !== false,
    priority: num(stats[index]?.priority),
  }));
}

function toPeer(p: Json): TuiPeer {
  return {
    address: String(p.address ?? ''),
    port: num(p.port),
    clientName: String(p.clientName ?? ''),
    flagStr: String(p.flagStr ?? ''),
    rateToClient: num(p.rateToClient),
    rateToPeer: num(p.rateToPeer),
    progress: num(p.progress),
  };
}

function toTracker(t: Json): TuiTracker {
  return {
    tier: num(t.tier),
    announce: String(t.announce ?? ''),
    lastAnnounceResult: String(t.lastAnnounceResult ?? ''),
    lastAnnounceSucceeded: t.lastAnnounceSucceeded === true,
    lastAnnounceTime: num(t.lastAnnounceTime),
    nextAnnounceTime: num(t.nextAnnounceTime),
    seederCount: num(t.seederCount, -1),
    leecherCount: num(t.leecherCount, -1),
  };
}
