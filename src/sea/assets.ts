/**
 * The single executable's runtime files. Worker scripts and the xxhash native
 * addon cannot run from inside the executable (worker threads start from a
 * file, dlopen opens a file), so they travel as SEA assets and are written,
 * once, to a private cache directory:
 *
 *   $XDG_CACHE_HOME/shoal/sea-<id>/   or   ~/.cache/shoal/sea-<id>/
 *   (no home directory: <os.tmpdir()>/shoal-<uid>/sea-<id>/, checked to be ours)
 *
 * `<id>` is a hash of every asset's bytes (computed by scripts/build-sea.ts),
 * so an executable reuses the directory of an earlier run of the same build
 * and different builds never share files. A directory is filled under a
 * temporary name and renamed into place when complete: a `sea-<id>` directory
 * is never half-written, and two processes extracting at once both end up
 * using one complete copy.
 */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { getAsset, getRawAsset } from 'node:sea';
import { DiskError } from '../core/errors.ts';

/** What scripts/build-sea.ts writes as the `manifest.json` asset. */
export interface AssetManifest {
  /** Hex hash over the names and bytes of every listed asset. */
  id: string;
  files: { name: string; size: number }[];
}

export interface Asset {
  name: string;
  size: number;
  /** The bytes; only called when the directory has to be written. */
  data: () => ArrayBuffer | Uint8Array;
}

export const MANIFEST_ASSET = 'manifest.json';
/** Staging directories older than this are leftovers of a killed run. */
const STALE_STAGING_MS = 60 * 60 * 1000;

let extractedDir: string | null = null;

/** The directory of the extracted assets of this process (after `extractSeaAssets`). */
export function assetDir(): string {
  if (extractedDir === null) throw new Error('single-executable assets were not extracted');
  return extractedDir;
}

/** Path of one extracted asset; the bundle's piscina worker path is redirected here. */
export function assetPath(name: string): string {
  return join(assetDir(), name);
}

/** The directory that holds the `sea-<id>` directories. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): { root: string; shared: boolean } {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return { root: join(xdg, 'shoal'), shared: false };
  let home = '';
  try {
    home = env.HOME || homedir();
  } catch {
    // no passwd entry and no HOME: fall through to the temp directory
  }
  if (home && isAbsolute(home)) return { root: join(home, '.cache', 'shoal'), shared: false };
  const uid = process.getuid?.() ?? 'user';
  return { root: join(tmpdir(), `shoal-${uid}`), shared: true };
}

/** Extracts the executable's assets (once per build) and returns their directory. */
export function extractSeaAssets(): string {
  const manifest = JSON.parse(getAsset(MANIFEST_ASSET, 'utf8')) as AssetManifest;
  const assets = manifest.files.map((file): Asset => ({
    ...file,
    data: () => getRawAsset(file.name),
  }));
  const { root, shared } = cacheRoot();
  extractedDir = materialize(root, manifest.id, assets, { shared });
  return extractedDir;
}

/**
 * Makes `<root>/sea-<id>` hold exactly `assets`, reusing it when it already
 * does. Throws DiskError (exit 5) with one line saying what to change.
 */
export function materialize(
  root: string,
  id: string,
  assets: Asset[],
  options: { shared?: boolean } = {},
): string {
  const dir = join(root, `sea-${id}`);
  if (complete(dir, assets)) return dir;
  try {
    makeDirectories(root);
    if (options.shared) checkPrivate(root);
    removeStale(root);
    const staging = join(root, `.sea-${id}-${process.pid}-${randomHex()}`);
    mkdirSync(staging, { mode: 0o700 });
    try {
      for (const asset of assets) writeDurably(join(staging, asset.name), asset.data());
      publish(staging, dir, assets);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  } catch (error) {
    if (error instanceof DiskError) throw error;
    throw cacheError(root, error);
  }
  return dir;
}

/**
 * `mkdir -p`, one component at a time: Node's recursive mkdir loops forever
 * on some file systems (a missing directory under /proc) and reports EROFS as
 * ENOENT, and the error must name the real cause.
 */
function makeDirectories(path: string): void {
  const missing: string[] = [];
  let current = path;
  for (;;) {
    try {
      if (!statSync(current).isDirectory())
        throw Object.assign(new Error(current), { code: 'ENOTDIR' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      missing.push(current);
      const parent = dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  for (const dir of missing.reverse()) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** True when `dir` holds every asset at its expected size (the cheap check made on every start). */
function complete(dir: string, assets: Asset[]): boolean {
  try {
    return assets.every((asset) => statSync(join(dir, asset.name)).size === asset.size);
  } catch {
    return false;
  }
}

function writeDurably(path: string, data: ArrayBuffer | Uint8Array): void {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const fd = openSync(path, 'wx', 0o644);
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Renames the finished staging directory into place; someone else's complete copy wins a race. */
function publish(staging: string, dir: string, assets: Asset[]): void {
  try {
    renameSync(staging, dir);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EPERM') throw error;
  }
  if (complete(dir, assets)) return;
  // A damaged copy (files deleted or truncated by hand): move it aside, then retry once.
  const aside = `${dir}.broken-${process.pid}-${randomHex()}`;
  renameSync(dir, aside);
  rmSync(aside, { recursive: true, force: true });
  renameSync(staging, dir);
}

/** Removes staging directories that killed runs left behind. */
function removeStale(root: string): void {
  const now = Date.now();
  for (const name of readdirSync(root)) {
    if (!name.startsWith('.sea-')) continue;
    const path = join(root, name);
    try {
      if (now - lstatSync(path).mtimeMs > STALE_STAGING_MS)
        rmSync(path, { recursive: true, force: true });
    } catch {
      // another process removed it first
    }
  }
}

/** A directory under a shared temp dir must be ours alone: not a symlink, owned by us, mode 0700. */
function checkPrivate(root: string): void {
  const stat = lstatSync(root);
  const uid = process.getuid?.();
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o077) !== 0)
    throw new DiskError(
      `${root} is not a private directory (it must be owned by you with mode 0700); remove it or set XDG_CACHE_HOME`,
    );
}

/** A random suffix; node:crypto loads only when a directory is written (at start it costs ~4 ms). */
function randomHex(): string {
  return process.getBuiltinModule('node:crypto').randomBytes(4).toString('hex');
}

function cacheError(root: string, error: unknown): DiskError {
  const e = error as NodeJS.ErrnoException;
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    ENOTDIR: 'a path component is not a directory',
    ENOENT: 'no such file or directory',
  };
  const reason = (e?.code && reasons[e.code]) || e?.message || String(error);
  return new DiskError(
    `cannot write shoal's runtime files to ${root}: ${reason}; set XDG_CACHE_HOME to a writable directory`,
    { cause: error },
  );
}
