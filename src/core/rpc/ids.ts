/**
 * The `ids` argument of torrent requests: absent (every torrent), a number, a
 * hash string (a lone string is what `transmission-remote -t HASH` sends),
 * `recently-active`, or a list of numbers and hash strings. Ids that match no
 * torrent are skipped, as Transmission does.
 */
import type { RpcTorrent } from './backend.ts';
import { RpcRefusal } from './backend.ts';

export type IdSelector =
  | { kind: 'all' }
  | { kind: 'recently-active' }
  | { kind: 'list'; numbers: Set<number>; hashes: Set<string> };

/** How long a torrent counts as "recently active" after its last activity, as Transmission (seconds). */
export const RECENTLY_ACTIVE_SECONDS = 60;

/** Most entries accepted in one `ids` list: enough for any real client, bounded for a hostile one. */
const MAX_IDS = 100_000;

const HASH = /^[0-9a-f]{40}$/i;

export function parseIds(value: unknown): IdSelector {
  if (value === undefined || value === null) return { kind: 'all' };
  if (value === 'recently-active') return { kind: 'recently-active' };
  const entries = Array.isArray(value) ? value : [value];
  if (entries.length > MAX_IDS) throw new RpcRefusal(`too many ids (most ${MAX_IDS})`);
  const numbers = new Set<number>();
  const hashes = new Set<string>();
  for (const entry of entries) {
    if (typeof entry === 'number' && Number.isSafeInteger(entry)) numbers.add(entry);
    else if (typeof entry === 'string' && HASH.test(entry)) hashes.add(entry.toLowerCase());
    else if (typeof entry === 'string' && /^\d{1,15}$/.test(entry)) numbers.add(Number(entry));
    else throw new RpcRefusal(`invalid id ${JSON.stringify(entry).slice(0, 60)}`);
  }
  return { kind: 'list', numbers, hashes };
}

/** The torrents `selector` names, in the backend's order. `now` in Unix seconds. */
export function selectTorrents(
  selector: IdSelector,
  torrents: RpcTorrent[],
  now: number,
): RpcTorrent[] {
  switch (selector.kind) {
    case 'all':
      return torrents;
    case 'recently-active':
      return torrents.filter((t) => now - t.activityDate <= RECENTLY_ACTIVE_SECONDS);
    case 'list':
      return torrents.filter(
        (t) => selector.numbers.has(t.id) || selector.hashes.has(t.hashString.toLowerCase()),
      );
  }
}
