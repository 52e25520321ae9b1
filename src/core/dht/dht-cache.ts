/**
 * The DHT routing table kept between runs in the user's cache directory
 * (node addresses plus our node id), so a second run finds peers without
 * waiting for the bootstrap routers. A missing or corrupt cache is ignored;
 * the file is replaced atomically (write, then rename).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PeerAddress } from '../net/peer-address.ts';
import { validatePeer } from '../net/peer-address.ts';

/** `$XDG_CACHE_HOME/shoal/dht.json`, or `~/.cache/shoal/dht.json`. */
export function dhtCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // XDG says relative values are invalid and must be ignored.
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'shoal', 'dht.json');
}

export interface DhtCache {
  nodeId: string | null;
  nodes: PeerAddress[];
}

/** Reads the cache; anything missing, unreadable or malformed yields an empty cache. */
export async function readDhtCache(file: string, maxNodes = 300): Promise<DhtCache> {
  const empty: DhtCache = { nodeId: null, nodes: [] };
  let data: unknown;
  try {
    const text = await readFile(file, 'utf8');
    if (text.length > 1024 * 1024) return empty;
    data = JSON.parse(text);
  } catch {
    return empty;
  }
  if (typeof data !== 'object' || data === null) return empty;
  const record = data as { nodeId?: unknown; nodes?: unknown };
  const nodeId =
    typeof record.nodeId === 'string' && /^[0-9a-f]{40}$/.test(record.nodeId)
      ? record.nodeId
      : null;
  const nodes: PeerAddress[] = [];
  if (Array.isArray(record.nodes)) {
    for (const node of record.nodes as unknown[]) {
      if (nodes.length >= maxNodes) break;
      if (typeof node !== 'object' || node === null) continue;
      const { host, port } = node as { host?: unknown; port?: unknown };
      if (typeof host !== 'string' || typeof port !== 'number') continue;
      const valid = validatePeer(host, port);
      // bittorrent-dht speaks IPv4 only.
      if (valid && !valid.host.includes(':')) nodes.push(valid);
    }
  }
  return { nodeId, nodes };
}

/** Writes the cache atomically: a crash leaves either the old file or the new one. */
export async function writeDhtCache(file: string, cache: DhtCache): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, JSON.stringify({ version: 1, ...cache }) + '\n', { mode: 0o600 });
  await rename(temporary, file);
}
