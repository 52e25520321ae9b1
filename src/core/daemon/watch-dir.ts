/**
 * `--watch DIR`: a .torrent file dropped in DIR is added, then renamed
 * `NAME.torrent.added` (as transmission-daemon does), so it is added once
 * and the user sees that it was. A file that is not a valid torrent is
 * renamed `NAME.torrent.invalid` and reported. The folder is polled (every
 * 2 s by default): inotify misses files on network and container mounts.
 * A file is read only once its size has stayed the same between two polls,
 * so one still being written is not taken half-way.
 */
import { readdir, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { maxTorrentBytes } from '../source/load-source.ts';

export interface WatchDirOptions {
  dir: string;
  intervalMs?: number;
  /** Adds the torrent; throws for an invalid one. */
  add(bytes: Uint8Array, file: string): Promise<void>;
  log(line: string): void;
}

export class WatchDir {
  readonly #options: WatchDirOptions;
  readonly #sizes = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #scanning: Promise<void> | null = null;

  constructor(options: WatchDirOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(() => void this.scan(), this.#options.intervalMs ?? 2000);
    void this.scan();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#scanning;
  }

  /** One pass over the folder (one at a time). */
  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => (this.#scanning = null));
    return this.#scanning;
  }

  async #scan(): Promise<void> {
    const { dir } = this.#options;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      this.#options.log(`cannot read the watch folder ${dir}: ${(error as Error).message}`);
      return;
    }
    for (const name of names.filter((n) => n.toLowerCase().endsWith('.torrent'))) {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) continue;
      // Taken only once its size held still for one poll: it may still be being written.
      const previous = this.#sizes.get(file);
      this.#sizes.set(file, info.size);
      if (previous !== info.size) continue;
      this.#sizes.delete(file);
      await this.#take(file, info.size);
    }
  }

  async #take(file: string, size: number): Promise<void> {
    let suffix = '.added';
    try {
      if (size > maxTorrentBytes) throw new Error('too large to be a .torrent file');
      await this.#options.add(await readFile(file), file);
      this.#options.log(`watch: added ${path.basename(file)}`);
    } catch (error) {
      suffix = '.invalid';
      this.#options.log(`watch: ${path.basename(file)} not added: ${(error as Error).message}`);
    }
    await rename(file, `${file}${suffix}`).catch((error: unknown) =>
      this.#options.log(`watch: cannot rename ${file}: ${(error as Error).message}`),
    );
  }
}
