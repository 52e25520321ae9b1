/**
 * The second stage of path sanitizing (sanitize-path.ts makes each component
 * safe): making the set of files safe. No two files share a path and no file
 * sits where another file needs a directory, comparing names as
 * case-insensitive and normalising file systems do (`collisionKey`).
 *
 * Every name of the layout (files and directories, in every directory) is in
 * one open-addressing table keyed by (directory, collision key), not in a Map
 * per directory keyed by a lower-cased copy of each name: a 400 000-file
 * torrent made a key string and a Map entry per file, kept to the end, and
 * this was a fifth of its `inspect`. An ASCII name is its own entry (its key
 * is the name with A-Z folded, which the table's hash and comparison fold as
 * they read it); only other names are stored as their `collisionKey`.
 */
import { collisionKey, withCounter } from './sanitize-path.ts';

/** What a name is in its directory: a file, or the id of the directory it names (>= 0). */
const FILE = -1;
const ABSENT = -2;

/** The names of every directory of the layout, by (directory id, collision key). */
class NameTable {
  /** Slots: 0 empty, else an entry index + 1. Length a power of two, at most half full. */
  private slots: Int32Array;
  private entryDir: Int32Array;
  private entryHash: Int32Array;
  private entryValue: Int32Array;
  /** Each entry's name: an ASCII spelling or a non-ASCII name's collision key. */
  private readonly entryText: string[] = [];
  private entries = 0;
  /** Where the last `find` that missed would insert, and what it looked for. */
  private missSlot = 0;
  private missHash = 0;
  private missText = '';

  constructor(expected: number) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Int32Array(capacity);
    this.entryDir = new Int32Array(capacity >> 1);
    this.entryHash = new Int32Array(capacity >> 1);
    this.entryValue = new Int32Array(capacity >> 1);
  }

  /** What `name` (a sanitized component) is in directory `dir`: FILE, a directory id, or ABSENT. */
  find(dir: number, name: string): number {
    let text = name;
    let hash = hashOf(dir, name);
    if (hashedNonAscii) {
      text = collisionKey(name);
      hash = hashOf(dir, text);
    }
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (;;) {
      const entry = this.slots[slot] - 1;
      if (entry < 0) break;
      if (
        this.entryHash[entry] === hash &&
        this.entryDir[entry] === dir &&
        sameKey(this.entryText[entry], text)
      )
        return this.entryValue[entry];
      slot = (slot + 1) & mask;
    }
    this.missSlot = slot;
    this.missHash = hash;
    this.missText = text;
    return ABSENT;
  }

  /** Adds the name the last `find` (which must have missed, in `dir`) looked for. */
  addMissed(dir: number, value: number): void {
    const entry = this.entries++;
    if (entry === this.entryDir.length) this.growEntries();
    this.entryDir[entry] = dir;
    this.entryHash[entry] = this.missHash;
    this.entryValue[entry] = value;
    this.entryText.push(this.missText);
    this.slots[this.missSlot] = entry + 1;
    if (this.entries * 2 > this.slots.length) this.rehash();
  }

  private growEntries(): void {
    const size = this.entryDir.length * 2;
    for (const field of ['entryDir', 'entryHash', 'entryValue'] as const) {
      const grown = new Int32Array(size);
      grown.set(this[field]);
      this[field] = grown;
    }
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let entry = 0; entry < this.entries; entry++) {
      let slot = this.entryHash[entry] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry + 1;
    }
    this.slots = slots;
  }
}

/**
 * Set by `hashOf`: the text it hashed has a character beyond ASCII. Such a name is looked up
 * by its `collisionKey` instead (whose characters fold to themselves below).
 */
let hashedNonAscii = false;

/**
 * Makes the table's hashes unknowable to whoever wrote the torrent: with a fixed hash, names
 * chosen to share slots would make every lookup walk all of them (quadratic time), which V8's
 * own Maps (seeded per process too) did not allow either. The layout never depends on it.
 */
const SEED = (Math.random() * 2 ** 32) | 0;

/** FNV-1a from a random basis over the name's characters with A-Z folded to a-z, then mixed with the directory. */
function hashOf(dir: number, text: string): number {
  let hash = SEED;
  let nonAscii = false;
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code > 0x7f) nonAscii = true;
    else if (code >= 0x41 && code <= 0x5a) code |= 0x20;
    hash = Math.imul(hash ^ code, 0x01000193);
  }
  hashedNonAscii = nonAscii;
  // murmur3's finaliser: every bit of the result depends on every bit of both.
  hash = Math.imul(hash ^ dir, 0x9e3779b1);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return hash ^ (hash >>> 16);
}

/**
 * Equal collision keys. Both are ASCII spellings or collision keys: the key of each is itself
 * with A-Z folded (a collision key has no A-Z left), so folding A-Z on both compares keys.
 */
function sameKey(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}

/**
 * Renames files so that no two share a path and no file occupies a path
 * another file needs as a directory, comparing names by `collisionKey` on
 * every platform (so a torrent lays out the same everywhere). Earlier files
 * keep their names; later ones get ` (1)`, ` (2)`… before the extension. A
 * directory component that collides with an earlier file is renamed the same
 * way (and every later file in that directory follows it to the same new
 * name). Names that collide with nothing keep their spelling; directories
 * equal by key are one directory (on Linux they may be spelled two ways).
 *
 * Linear in the total length of the paths: each path walks a tree of
 * directories once. Input components must already be sanitized. A path that
 * keeps its name is returned as the same array (callers can tell a renamed
 * one by identity); a renamed one is a new array.
 */
export function disambiguatePaths(paths: readonly (readonly string[])[]): (readonly string[])[] {
  const names = new NameTable(paths.length + 16);
  // Directory 0 is the root. What only renames need, by directory id, made on first use:
  // a directory name that collided with an earlier file here (by key) -> the name it was
  // given, and the next counter to try for a file name that collided here (keeps renaming
  // linear).
  let directories = 1;
  const renamedDirs = new Map<number, Map<string, string>>();
  const nextCounter = new Map<number, Map<string, number>>();
  const out: (readonly string[])[] = new Array<readonly string[]>(paths.length);
  // The previous path when nothing in it was renamed, and the directory reached after each of
  // its components (dirsOfPrevious[0] is the root): files listed together mostly share their
  // directories, whose lookups are then skipped. Names are only ever added, so walking the
  // same names again would reach the same directories.
  let previous: readonly string[] | null = null;
  const dirsOfPrevious: number[] = [0];
  for (let p = 0; p < paths.length; p++) {
    const original = paths[p];
    // Copied only when something in it is renamed: most paths are not.
    let path = original as string[];
    let start = 0;
    if (previous !== null) {
      const shared = Math.min(previous.length, path.length) - 1;
      while (start < shared && path[start] === previous[start]) start++;
    }
    let dir = dirsOfPrevious[start];
    for (let i = start; i < path.length - 1; i++) {
      let child = names.find(dir, path[i]);
      if (child === FILE) {
        const key = collisionKey(path[i]);
        let byKey = renamedDirs.get(dir);
        if (byKey === undefined) renamedDirs.set(dir, (byKey = new Map()));
        let renamed = byKey.get(key);
        if (renamed === undefined) {
          for (let n = 1; ; n++) {
            renamed = withCounter(path[i], n);
            if (names.find(dir, renamed) !== FILE) break;
          }
          byKey.set(key, renamed);
        }
        path = renamedCopy(path, original, i, renamed);
        child = names.find(dir, renamed);
      }
      if (child === ABSENT) {
        child = directories++;
        names.addMissed(dir, child);
      }
      dir = child;
      dirsOfPrevious[i + 1] = dir;
    }
    const last = path.length - 1;
    if (names.find(dir, path[last]) === ABSENT) names.addMissed(dir, FILE);
    else {
      const base = path[last];
      const baseKey = collisionKey(base);
      let counters = nextCounter.get(dir);
      if (counters === undefined) nextCounter.set(dir, (counters = new Map()));
      let n = counters.get(baseKey) ?? 1;
      while (names.find(dir, withCounter(base, n)) !== ABSENT) n++;
      names.addMissed(dir, FILE);
      path = renamedCopy(path, original, last, withCounter(base, n));
      counters.set(baseKey, n + 1);
    }
    out[p] = path;
    previous = path === original ? original : null;
  }
  return out;
}

/** `path` with component `i` renamed: a copy of `original` the first time, then the same copy. */
function renamedCopy(
  path: string[],
  original: readonly string[],
  i: number,
  component: string,
): string[] {
  const copy = path === original ? [...original] : path;
  copy[i] = component;
  return copy;
}
