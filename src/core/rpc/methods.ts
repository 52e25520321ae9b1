/**
 * Method dispatch: one parsed JSON request in, one response object out
 * (`{result, arguments, tag}`), never a throw. Arguments are checked here;
 * paths go through the download-root policy before the backend sees them.
 */
import { readFile, stat } from 'node:fs/promises';
import { parseTorrent } from '../metainfo/index.ts';
import type { AddRequest, RpcBackend, TorrentChanges } from './backend.ts';
import { RpcRefusal } from './backend.ts';
import {
  type Args,
  fileSelection,
  optionalBoolean,
  optionalLabels,
  optionalMode,
  optionalNumber,
  optionalPriority,
  optionalString,
  optionalTrackerList,
} from './args.ts';
import { knownFields, renderTorrents } from './fields.ts';
import { parseIds, selectTorrents } from './ids.ts';
import type { DownloadRoots } from './roots.ts';

/** What the protocol reports about itself in session-get (Transmission 4.0's RPC, which shoal speaks). */
export const PROTOCOL = {
  version: '4.0.6 (shoal)',
  'rpc-version': 17,
  'rpc-version-minimum': 14,
  'rpc-version-semver': '5.3.0',
} as const;

/**
 * Transmission features shoal does not have, reported as off so that clients
 * reading these keys find them (session-set ignores them). The schedule's
 * times are Transmission's defaults: with the schedule off they mean nothing.
 */
const ABSENT_FEATURES = {
  'alt-speed-time-enabled': false,
  'alt-speed-time-begin': 540,
  'alt-speed-time-end': 1020,
  'alt-speed-time-day': 127,
  'blocklist-enabled': false,
  'blocklist-size': 0,
  'blocklist-url': '',
  'peer-port-random-on-start': false,
  'port-forwarding-enabled': false,
  'script-torrent-done-enabled': false,
  'script-torrent-done-filename': '',
  'trash-original-torrent-files': false,
} as const;

/** Largest .torrent read from a local `filename` (the same cap as `shoal download`). */
const MAX_TORRENT_FILE_BYTES = 64 * 1024 * 1024;

/** Session keys a caller may set. Hooks (`script-*`) are daemon flags only: over RPC they are remote code execution. */
export const SETTABLE_SESSION_KEYS = new Set([
  'alt-speed-down',
  'alt-speed-enabled',
  'alt-speed-up',
  'dht-enabled',
  'download-dir',
  'download-queue-enabled',
  'download-queue-size',
  'encryption',
  'idle-seeding-limit',
  'idle-seeding-limit-enabled',
  'incomplete-dir',
  'incomplete-dir-enabled',
  'lpd-enabled',
  'peer-limit-global',
  'peer-limit-per-torrent',
  'pex-enabled',
  'queue-stalled-enabled',
  'queue-stalled-minutes',
  'rename-partial-files',
  'seed-queue-enabled',
  'seed-queue-size',
  'seedRatioLimit',
  'seedRatioLimited',
  'speed-limit-down',
  'speed-limit-down-enabled',
  'speed-limit-up',
  'speed-limit-up-enabled',
  'start-added-torrents',
  'utp-enabled',
]);

/** Session keys that name a directory: each is checked against the roots. */
const SESSION_PATH_KEYS = ['download-dir', 'incomplete-dir'];

export interface MethodContext {
  backend: RpcBackend;
  roots: DownloadRoots;
  /** Folders a remote (non-loopback) caller may name a .torrent in with `filename`; null: none. */
  torrentFolders: DownloadRoots | null;
  callerIsLoopback: boolean;
  sessionId: string;
  /** Unix seconds. */
  now(): number;
}

export interface RpcResponse {
  result: string;
  arguments: Record<string, unknown>;
  tag?: number;
}

type Handler = (args: Args, ctx: MethodContext) => Promise<Record<string, unknown>>;

const MAX_INT = Number.MAX_SAFE_INTEGER;

/** Runs one request. Refusals become the `result`; anything else is a server bug, reported in one line. */
export async function dispatch(request: unknown, ctx: MethodContext): Promise<RpcResponse> {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return { result: 'request must be a JSON object', arguments: {} };
  }
  const { method, arguments: args, tag } = request as Record<string, unknown>;
  const echo = typeof tag === 'number' && Number.isFinite(tag) ? { tag } : {};
  if (typeof method !== 'string') return { result: 'no method name', arguments: {}, ...echo };
  const handler = Object.hasOwn(HANDLERS, method) ? HANDLERS[method] : undefined;
  if (!handler) return { result: 'method name not recognized', arguments: {}, ...echo };
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    return { result: '"arguments" must be an object', arguments: {}, ...echo };
  }
  try {
    const out = await handler((args ?? {}) as Args, ctx);
    return { result: 'success', arguments: out, ...echo };
  } catch (error) {
    if (error instanceof RpcRefusal) return { result: error.message, arguments: {}, ...echo };
    const message = error instanceof Error ? error.message : String(error);
    return { result: `internal error: ${message}`, arguments: {}, ...echo };
  }
}

async function selectedIds(args: Args, ctx: MethodContext): Promise<number[]> {
  const selector = parseIds(args.ids);
  return selectTorrents(selector, await ctx.backend.list(), ctx.now()).map((t) => t.id);
}

/** torrent-start, -stop, ...: `ids` in, nothing out. */
function onIds(action: (backend: RpcBackend, ids: number[], args: Args) => Promise<void>): Handler {
  return async (args, ctx) => {
    await action(ctx.backend, await selectedIds(args, ctx), args);
    return {};
  };
}

function notSupported(method: string, why: string): Handler {
  return async () => {
    throw new RpcRefusal(`${method} is not supported: ${why}`);
  };
}

async function torrentGet(args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  if (!Array.isArray(args.fields)) throw new RpcRefusal('torrent-get needs a "fields" list');
  const format = args.format === 'table' ? 'table' : 'objects';
  const selector = parseIds(args.ids);
  const now = ctx.now();
  const torrents = selectTorrents(selector, await ctx.backend.list(), now);
  const out: Record<string, unknown> = {
    torrents: renderTorrents(torrents, knownFields(args.fields), format, now),
  };
  if (selector.kind === 'recently-active') out.removed = await ctx.backend.recentlyRemoved();
  return out;
}

async function torrentAdd(args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  const session = await ctx.backend.session();
  const dirArg = optionalString(args, 'download-dir') ?? session['download-dir'];
  const request: AddRequest = {
    source: await addSource(args, ctx),
    downloadDir: await ctx.roots.check(dirArg, 'download-dir'),
    paused: optionalBoolean(args, 'paused') ?? session['start-added-torrents'] === false,
    labels: optionalLabels(args, 'labels') ?? [],
    ...fileSelection(args),
    peerLimit: optionalNumber(args, 'peer-limit', { min: 0, max: 65_535 }),
    bandwidthPriority: optionalPriority(args, 'bandwidthPriority'),
  };
  const { torrent, duplicate } = await ctx.backend.add(withoutUndefined(request));
  const summary = { hashString: torrent.hashString, id: torrent.id, name: torrent.name };
  return duplicate ? { 'torrent-duplicate': summary } : { 'torrent-added': summary };
}

/** What to add: base64 `metainfo`, or `filename` as a magnet, an info-hash, a URL or a local .torrent. */
async function addSource(args: Args, ctx: MethodContext): Promise<AddRequest['source']> {
  const metainfo = optionalString(args, 'metainfo', Number.MAX_SAFE_INTEGER);
  if (metainfo !== undefined) return { metainfo: checkedTorrent(Buffer.from(metainfo, 'base64')) };
  const filename = optionalString(args, 'filename');
  if (filename === undefined) throw new RpcRefusal('torrent-add needs "metainfo" or "filename"');
  if (/^magnet:\?/i.test(filename)) return { magnet: filename };
  if (/^[0-9a-f]{40}$/i.test(filename)) return { magnet: `magnet:?xt=urn:btih:${filename}` };
  if (/^https?:\/\//i.test(filename)) return { url: filename };
  return { metainfo: checkedTorrent(await readLocalTorrent(filename, ctx)) };
}

/**
 * A local .torrent named by `filename`: any path for a caller on this
 * machine (it could read the file itself), only the allowed folders for a
 * remote one, so RPC never becomes a way to read the daemon's files.
 */
async function readLocalTorrent(filename: string, ctx: MethodContext): Promise<Buffer> {
  if (!ctx.callerIsLoopback && !(await ctx.torrentFolders?.contains(filename))) {
    throw new RpcRefusal(
      'filename as a local path is accepted only from this machine or inside the watch folder',
    );
  }
  const info = await stat(filename).catch(() => null);
  if (!info?.isFile()) throw new RpcRefusal(`no such .torrent file: ${filename}`);
  if (info.size > MAX_TORRENT_FILE_BYTES)
    throw new RpcRefusal(`${filename} is too large for a .torrent`);
  return readFile(filename);
}

function checkedTorrent(bytes: Buffer): Buffer {
  try {
    parseTorrent(bytes);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new RpcRefusal(`invalid or corrupt torrent file (${why})`);
  }
  return bytes;
}

async function torrentSet(args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  const ids = await selectedIds(args, ctx);
  const changes: TorrentChanges = withoutUndefined({
    bandwidthPriority: optionalPriority(args, 'bandwidthPriority'),
    downloadLimit: optionalNumber(args, 'downloadLimit', { min: 0, max: MAX_INT }),
    downloadLimited: optionalBoolean(args, 'downloadLimited'),
    uploadLimit: optionalNumber(args, 'uploadLimit', { min: 0, max: MAX_INT }),
    uploadLimited: optionalBoolean(args, 'uploadLimited'),
    honorsSessionLimits: optionalBoolean(args, 'honorsSessionLimits'),
    ...fileSelection(args),
    labels: optionalLabels(args, 'labels'),
    peerLimit: optionalNumber(args, 'peer-limit', { min: 0, max: 65_535 }),
    queuePosition: optionalNumber(args, 'queuePosition', { min: 0, max: MAX_INT }),
    seedRatioLimit: optionalNumber(args, 'seedRatioLimit', { min: 0, max: 1e9, integer: false }),
    seedRatioMode: optionalMode(args, 'seedRatioMode'),
    seedIdleLimit: optionalNumber(args, 'seedIdleLimit', { min: 0, max: MAX_INT }),
    seedIdleMode: optionalMode(args, 'seedIdleMode'),
    trackerList: optionalTrackerList(args, 'trackerList'),
  });
  const location =
    args.location === undefined ? undefined : await ctx.roots.check(args.location, 'location');
  if (Object.keys(changes).length > 0) await ctx.backend.set(ids, changes);
  if (location !== undefined) await ctx.backend.setLocation(ids, location, { move: false });
  return {};
}

async function torrentSetLocation(
  args: Args,
  ctx: MethodContext,
): Promise<Record<string, unknown>> {
  const location = await ctx.roots.check(args.location, 'location');
  const move = optionalBoolean(args, 'move') ?? false;
  await ctx.backend.setLocation(await selectedIds(args, ctx), location, { move });
  return {};
}

async function sessionGet(args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  const session = await ctx.backend.session();
  const all: Record<string, unknown> = {
    ...ABSENT_FEATURES,
    ...session,
    'download-dir-free-space': await freeBytes(ctx, session['download-dir']),
    ...PROTOCOL,
    'session-id': ctx.sessionId,
    units: {
      'speed-units': ['kB/s', 'MB/s', 'GB/s', 'TB/s'],
      'speed-bytes': 1000,
      'size-units': ['kB', 'MB', 'GB', 'TB'],
      'size-bytes': 1000,
      'memory-units': ['KiB', 'MiB', 'GiB', 'TiB'],
      'memory-bytes': 1024,
    },
  };
  if (!Array.isArray(args.fields)) return all;
  const wanted = args.fields.filter(
    (key): key is string => typeof key === 'string' && Object.hasOwn(all, key),
  );
  return Object.fromEntries(wanted.map((key) => [key, all[key]]));
}

/** Free bytes where `dir` lies (-1 when unknown, as Transmission answers). */
async function freeBytes(ctx: MethodContext, dir: unknown): Promise<number> {
  if (typeof dir !== 'string') return -1;
  try {
    return (await ctx.backend.freeSpace(dir)).free;
  } catch {
    return -1;
  }
}

async function sessionSet(args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (key.startsWith('script-')) {
      throw new RpcRefusal(`${key} cannot be set over RPC (hooks are daemon flags)`);
    }
    // Read-only and unknown keys are ignored, as Transmission does.
    if (SETTABLE_SESSION_KEYS.has(key)) changes[key] = value;
  }
  for (const key of SESSION_PATH_KEYS) {
    if (key in changes) changes[key] = await ctx.roots.check(changes[key], key);
  }
  await ctx.backend.setSession(changes);
  return {};
}

async function sessionStats(_args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  const s = await ctx.backend.stats();
  return {
    activeTorrentCount: s.activeTorrentCount,
    downloadSpeed: s.downloadSpeed,
    pausedTorrentCount: s.pausedTorrentCount,
    torrentCount: s.torrentCount,
    uploadSpeed: s.uploadSpeed,
    'cumulative-stats': s.cumulative,
    'current-stats': s.current,
  };
}

async function freeSpace(args: Args, ctx: MethodContext): Promise<Record<string, unknown>> {
  const path = await ctx.roots.check(args.path, 'path');
  const { free, total } = await ctx.backend.freeSpace(path);
  return { path: args.path, 'size-bytes': free, total_size: total };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const HANDLERS: Readonly<Record<string, Handler>> = {
  'torrent-get': torrentGet,
  'torrent-add': torrentAdd,
  'torrent-set': torrentSet,
  'torrent-set-location': torrentSetLocation,
  'torrent-start': onIds((backend, ids) => backend.start(ids, { now: false })),
  'torrent-start-now': onIds((backend, ids) => backend.start(ids, { now: true })),
  'torrent-stop': onIds((backend, ids) => backend.stop(ids)),
  'torrent-verify': onIds((backend, ids) => backend.verify(ids)),
  'torrent-reannounce': onIds((backend, ids) => backend.reannounce(ids)),
  'torrent-remove': onIds((backend, ids, args) =>
    backend.remove(ids, { deleteData: optionalBoolean(args, 'delete-local-data') ?? false }),
  ),
  'torrent-rename-path': notSupported(
    'torrent-rename-path',
    'files keep the names the torrent gives',
  ),
  'queue-move-top': onIds((backend, ids) => backend.queueMove(ids, 'top')),
  'queue-move-up': onIds((backend, ids) => backend.queueMove(ids, 'up')),
  'queue-move-down': onIds((backend, ids) => backend.queueMove(ids, 'down')),
  'queue-move-bottom': onIds((backend, ids) => backend.queueMove(ids, 'bottom')),
  'session-get': sessionGet,
  'session-set': sessionSet,
  'session-stats': sessionStats,
  'session-close': async (_args, ctx) => {
    await ctx.backend.close();
    return {};
  },
  'free-space': freeSpace,
  'port-test': notSupported(
    'port-test',
    'shoal cannot tell whether its port is reachable from outside without asking a third-party service',
  ),
  'blocklist-update': notSupported('blocklist-update', 'shoal has no blocklist'),
  'group-get': async () => ({ group: [] }),
  'group-set': notSupported('group-set', 'shoal has no bandwidth groups'),
};

/** The method names this server answers (for docs and tests). */
export const METHOD_NAMES = Object.keys(HANDLERS);
