/**
 * The daemon's queue, as pure decisions over the torrents' state: which
 * torrents may start now (Transmission's `download-queue-size` and
 * `seed-queue-size`), and where `queue-move-*` puts them. The manager applies
 * the decisions; nothing here starts, stops or saves anything.
 */
import type { QueueMove } from '../rpc/backend.ts';
import type { DaemonSettings } from './settings.ts';

/** What the queue needs to know of one torrent. */
export interface QueueEntry {
  queuePosition: number;
  paused: boolean;
  running: boolean;
  /** It still has wanted data to fetch (a download), else it seeds. */
  needsData: boolean;
  /** Its last run failed: it waits for the user, not for a free slot. */
  failed: boolean;
}

export type QueueSettings = Pick<
  DaemonSettings,
  'download-queue-enabled' | 'download-queue-size' | 'seed-queue-enabled' | 'seed-queue-size'
>;

/** `entries` in queue order (lowest position first). */
export function inQueueOrder<T extends { queuePosition: number }>(entries: readonly T[]): T[] {
  return [...entries].sort((a, b) => a.queuePosition - b.queuePosition);
}

/**
 * Which torrents to start now and which wait in the queue: torrents not paused,
 * in queue order, while the download and seed queues have room. Running
 * torrents are never stopped by the queue (as in Transmission); a lowered size
 * takes effect as they end.
 */
export function queueDecisions<T extends QueueEntry>(
  entries: readonly T[],
  settings: QueueSettings,
): { start: T[]; queued: T[] } {
  const waiting = inQueueOrder(entries.filter((entry) => !entry.paused));
  let downloads = waiting.filter((entry) => entry.running && entry.needsData).length;
  let seeds = waiting.filter((entry) => entry.running && !entry.needsData).length;
  const start: T[] = [];
  const queued: T[] = [];
  for (const entry of waiting) {
    if (entry.running || entry.failed) continue;
    const full = entry.needsData
      ? settings['download-queue-enabled'] && downloads >= settings['download-queue-size']
      : settings['seed-queue-enabled'] && seeds >= settings['seed-queue-size'];
    if (full) {
      queued.push(entry);
      continue;
    }
    start.push(entry);
    if (entry.needsData) downloads++;
    else seeds++;
  }
  return { start, queued };
}

/**
 * The queue after moving `moving` (in the order given) `where`: `up`/`down`
 * by one place, `top`/`bottom` to an end keeping their order among
 * themselves. Entries not in `order` are ignored.
 */
export function moveInQueue<T>(order: readonly T[], moving: readonly T[], where: QueueMove): T[] {
  const result = [...order];
  for (const entry of where === 'down' || where === 'top' ? [...moving].reverse() : moving) {
    const at = result.indexOf(entry);
    if (at < 0) continue;
    result.splice(at, 1);
    const to =
      where === 'top'
        ? 0
        : where === 'bottom'
          ? result.length
          : where === 'up'
            ? Math.max(0, at - 1)
            : Math.min(result.length, at + 1);
    result.splice(to, 0, entry);
  }
  return result;
}
