/**
 * Test data for the TUI's views and app: torrents with sensible defaults, and
 * an in-memory TuiSource that records every action and can be made slow or
 * unreachable (to see the busy and away marks).
 */
import type {
  DetailTab,
  Limits,
  ListUpdate,
  SessionInfo,
  TuiDetail,
  TuiFile,
  TuiSource,
  TuiTorrent,
} from '../../src/tui/types.ts';
import { makeTheme } from '../../src/tui/theme.ts';

export const plain = makeTheme({ color: false, unicode: true });
export const ascii = makeTheme({ color: false, unicode: false });
export const colored = makeTheme({ color: true, unicode: true });

export function torrent(id: number, overrides: Partial<TuiTorrent> = {}): TuiTorrent {
  return {
    id,
    name: `torrent-${id}`,
    status: 6,
    error: 0,
    errorString: '',
    percentDone: 1,
    recheckProgress: 0,
    sizeWhenDone: 1024 * 1024 * id,
    downloadedEver: 0,
    uploadedEver: 0,
    rateDownload: 0,
    rateUpload: 0,
    peersConnected: 0,
    uploadRatio: 0,
    eta: -1,
    addedDate: 1_700_000_000 + id,
    ...overrides,
  };
}

export function file(index: number, name: string, overrides: Partial<TuiFile> = {}): TuiFile {
  return {
    index,
    name,
    length: 1000,
    bytesCompleted: 1000,
    wanted: true,
    priority: 0,
    ...overrides,
  };
}

export class FakeSource implements TuiSource {
  readonly address = 'fake:9091';
  torrents = new Map<number, TuiTorrent>();
  files = new Map<number, TuiFile[]>();
  calls: string[] = [];
  /** Ids removed since the last list call (what recently-active reports as `removed`). */
  removed: number[] = [];
  listCalls: boolean[] = [];
  /** While set, every call waits for this promise. */
  gate: Promise<void> | undefined;
  /** While set, every call fails with this message. */
  down: string | undefined;

  constructor(torrents: TuiTorrent[] = []) {
    for (const t of torrents) this.torrents.set(t.id, t);
  }

  async #enter(): Promise<void> {
    if (this.gate) await this.gate;
    if (this.down) throw new Error(this.down);
  }

  async list(full: boolean): Promise<ListUpdate> {
    this.listCalls.push(full);
    await this.#enter();
    const removed = full ? [] : this.removed.splice(0);
    return { full, torrents: [...this.torrents.values()].map((t) => ({ ...t })), removed };
  }

  async detail(id: number, tab: DetailTab): Promise<TuiDetail> {
    this.calls.push(`detail ${id} ${tab}`);
    await this.#enter();
    const detail: TuiDetail = { id };
    if (tab === 'files') detail.files = (this.files.get(id) ?? []).map((f) => ({ ...f }));
    if (tab === 'peers') detail.peers = [];
    if (tab === 'trackers') detail.trackers = [];
    if (tab === 'pieces') detail.pieces = { pieceCount: 8, bitfield: Uint8Array.of(0xf0) };
    return detail;
  }

  async session(): Promise<SessionInfo> {
    await this.#enter();
    return { downloadDir: '/data', freeSpace: 10 * 1024 ** 3, version: 'fake' };
  }

  async start(ids: number[]): Promise<void> {
    this.calls.push(`start ${ids.join(',')}`);
    await this.#enter();
    for (const id of ids) this.#set(id, { status: 4 });
  }

  async stop(ids: number[]): Promise<void> {
    this.calls.push(`stop ${ids.join(',')}`);
    await this.#enter();
    for (const id of ids) this.#set(id, { status: 0 });
  }

  async verify(ids: number[]): Promise<void> {
    this.calls.push(`verify ${ids.join(',')}`);
    await this.#enter();
  }

  async remove(ids: number[], deleteData: boolean): Promise<void> {
    this.calls.push(`remove ${ids.join(',')}${deleteData ? ' delete-data' : ''}`);
    await this.#enter();
    for (const id of ids) {
      this.torrents.delete(id);
      this.removed.push(id);
    }
  }

  async add(source: string): Promise<void> {
    this.calls.push(`add ${source}`);
    await this.#enter();
  }

  async setWanted(id: number, files: number[], wanted: boolean): Promise<void> {
    this.calls.push(`wanted ${id} ${files.join(',')} ${wanted}`);
    await this.#enter();
    for (const f of this.files.get(id) ?? []) if (files.includes(f.index)) f.wanted = wanted;
  }

  async setPriority(id: number, files: number[], priority: number): Promise<void> {
    this.calls.push(`priority ${id} ${files.join(',')} ${priority}`);
    await this.#enter();
  }

  async setLimits(id: number, limits: Limits): Promise<void> {
    this.calls.push(`limits ${id} ${limits.download ?? 'none'} ${limits.upload ?? 'none'}`);
    await this.#enter();
  }

  #set(id: number, changes: Partial<TuiTorrent>): void {
    const t = this.torrents.get(id);
    if (t) this.torrents.set(id, { ...t, ...changes });
  }
}

/** Strips color escapes (tests of layout read plain text). */
export function text(lines: string[]): string {
  // eslint-disable-next-line no-control-regex
  return lines.join('\n').replace(/\u001b\[[0-9;?]*[a-zA-Z]/g, '');
}
