/**
 * The daemon's state directory, crash-safe:
 *
 *   STATE/daemon.lock           one daemon per state directory (lock/process-lock.ts)
 *   STATE/settings.json         session settings under their RPC names
 *   STATE/torrents.json         the torrent list: each torrent's settings, save path, state
 *   STATE/torrents/<hash>.torrent  each torrent's metainfo (a magnet's once fetched)
 *
 * Every file is replaced whole: written to a temporary name, fsynced, renamed
 * over the old one, and the directory fsynced, so `kill -9` or a power cut
 * leaves the old version or the new one, never half of either. Resume data
 * (which pieces are verified) lives beside the data as for `shoal download`
 * (resume/resume-store.ts); this directory only says what to resume.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { diskErrorFrom, InputError } from '../errors.ts';
import { writeOutputFile } from '../storage/output-file.ts';
import { acquireLock, type HeldLock } from '../lock/process-lock.ts';
import type { TorrentRecord } from './torrent-record.ts';

/** What torrents.json holds. */
export interface TorrentList {
  nextId: number;
  torrents: TorrentRecord[];
}

/** Largest state file read back (a list of many thousands of torrents fits easily). */
const MAX_STATE_FILE_BYTES = 64 * 1024 * 1024;

export class StateStore {
  readonly dir: string;
  #lock: HeldLock | null = null;
  /** Writes happen one after another, in the order they were asked for. */
  #queue: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  get torrentsDir(): string {
    return path.join(this.dir, 'torrents');
  }

  /**
   * Creates the directory (private, 0700) and takes its lock: a second daemon
   * on the same directory gets a UsageError (exit 2) naming the one running.
   */
  async open(): Promise<void> {
    try {
      await mkdir(this.torrentsDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw diskErrorFrom(error, 'create the state directory', this.dir);
    }
    this.#lock = await acquireLock(
      path.join(this.dir, 'daemon.lock'),
      `state directory ${this.dir}`,
    );
  }

  async close(): Promise<void> {
    await this.#queue;
    await this.#lock?.release();
    this.#lock = null;
  }

  async readSettings(): Promise<Record<string, unknown>> {
    const value = await this.#readJson('settings.json');
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  }

  async readTorrents(): Promise<TorrentList> {
    const value = (await this.#readJson('torrents.json')) as Partial<TorrentList> | null;
    if (!value || !Array.isArray(value.torrents)) return { nextId: 1, torrents: [] };
    return {
      nextId: typeof value.nextId === 'number' ? value.nextId : 1,
      torrents: value.torrents,
    };
  }

  saveSettings(settings: Record<string, unknown>): Promise<void> {
    return this.#write('settings.json', JSON.stringify(settings, null, 2) + '\n');
  }

  saveTorrents(list: TorrentList): Promise<void> {
    return this.#write('torrents.json', JSON.stringify(list) + '\n');
  }

  metainfoPath(hash: string): string {
    return path.join(this.torrentsDir, `${hash}.torrent`);
  }

  saveMetainfo(hash: string, bytes: Uint8Array): Promise<void> {
    return this.#write(path.join('torrents', `${hash}.torrent`), bytes);
  }

  async readMetainfo(hash: string): Promise<Uint8Array | null> {
    try {
      return await readFile(this.metainfoPath(hash));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw diskErrorFrom(error, 'read', this.metainfoPath(hash));
    }
  }

  removeMetainfo(hash: string): Promise<void> {
    return this.#serially(() => rm(this.metainfoPath(hash), { force: true }));
  }

  async #readJson(name: string): Promise<unknown> {
    const file = path.join(this.dir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw diskErrorFrom(error, 'read', file);
    }
    if (text.length > MAX_STATE_FILE_BYTES) throw new InputError(`${file} is too large`);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      // Only ever written whole (see #write), so a bad file was edited by hand: say which.
      throw new InputError(`${file} is not valid JSON: ${(error as Error).message}`);
    }
  }

  #write(name: string, data: string | Uint8Array): Promise<void> {
    return this.#serially(() => writeAtomically(path.join(this.dir, name), data));
  }

  #serially(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/**
 * Temp file, fsync, rename (storage/output-file.ts), then an fsync of the
 * folder so the rename itself survives a power cut: the old file or the new one.
 */
export async function writeAtomically(file: string, data: string | Uint8Array): Promise<void> {
  await writeOutputFile(file, typeof data === 'string' ? Buffer.from(data) : data, true);
  try {
    const folder = await open(path.dirname(file), constants.O_RDONLY);
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } catch (error) {
    throw diskErrorFrom(error, 'sync the folder of', file);
  }
}
