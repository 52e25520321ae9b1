/**
 * Turns the path components a .torrent claims into components that are safe
 * to join under an output directory (DESIGN.md §4: never write outside it).
 *
 * Two stages:
 * - `sanitizePath` (here) makes each file's components individually safe: no
 *   `.`, `..`, empty components, separators, NUL/control characters, Windows
 *   device names or trailing dots/spaces, and at most 255 UTF-8 bytes each.
 * - `disambiguatePaths` (disambiguate.ts) makes the set of files safe: no two
 *   files share a path and no file sits where another file needs a directory,
 *   comparing names as case-insensitive and normalising file systems do.
 *
 * Both are pure and deterministic, so every client of the same torrent (and
 * every rerun) computes the same layout.
 */

export interface SanitizeOptions {
  /**
   * Also replace the characters Windows forbids in names (`<>:"|?*`). Off by
   * default because on POSIX systems those names are legal and common
   * ("Title: Part 1.mkv"), and other clients (libtorrent, transmission) keep
   * them there, so data they downloaded is found under the same names.
   */
  windows?: boolean;
}

/** Longest component most file systems accept (ext4, NTFS in UTF-16 is more lenient). */
export const MAX_COMPONENT_BYTES = 255;

/** Used when a file's components all sanitize away (its path must not be empty). */
export const PLACEHOLDER_COMPONENT = '_';

// C0 and C1 controls, DEL, and bidi overrides that make names display misleadingly.
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu;
const SEPARATORS = /[/\\]/g;
const WINDOWS_FORBIDDEN = /[<>:"|?*]/g;
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
const TRAILING_DOTS_SPACES = /[. ]+$/;

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Truncates to at most `maxBytes` UTF-8 bytes without splitting a code point. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  let bytes = 0;
  let out = '';
  for (const char of text) {
    const size = utf8Length(char);
    if (bytes + size > maxBytes) break;
    bytes += size;
    out += char;
  }
  return out;
}

/** `name.ext` -> ['name', '.ext']; a leading dot or an implausibly long extension is not one. */
function splitExtension(component: string): [string, string] {
  const dot = component.lastIndexOf('.');
  if (dot <= 0 || utf8Length(component.slice(dot)) > 32) return [component, ''];
  return [component.slice(0, dot), component.slice(dot)];
}

/**
 * Sanitizes one component; returns null when it must be dropped (`.`, `..`,
 * empty, or nothing left after removing unsafe characters). Idempotent.
 */
export function sanitizeComponent(raw: string, options: SanitizeOptions = {}): string | null {
  return isPlainComponent(raw, options.windows === true)
    ? raw
    : sanitizeComponentFully(raw, options);
}

/** `sanitizeComponent` without the shortcut for names it leaves alone (exported for its test). */
export function sanitizeComponentFully(raw: string, options: SanitizeOptions = {}): string | null {
  let text = raw.replace(UNSAFE_CHARS, '').replace(SEPARATORS, '_');
  if (options.windows) text = text.replace(WINDOWS_FORBIDDEN, '_');
  if (text === '' || text === '.' || text === '..') return null;
  // Truncation and the fixes below can each undo another; a few rounds reach a fixed point.
  for (let round = 0; round < 4; round++) {
    const before = text;
    text = truncateUtf8(text, MAX_COMPONENT_BYTES);
    // Windows silently drops trailing dots and spaces, which would merge "a." with "a".
    text = text.replace(TRAILING_DOTS_SPACES, '');
    if (text === '') text = PLACEHOLDER_COMPONENT;
    const firstDot = text.indexOf('.');
    const stem = firstDot === -1 ? text : text.slice(0, firstDot);
    // "CON", "nul.txt", "COM1 .log" name devices on Windows, not files.
    if (WINDOWS_DEVICE.test(stem.trimEnd())) {
      text = stem.trimEnd() + '_' + text.slice(stem.trimEnd().length);
    }
    if (text === before) break;
  }
  return text;
}

/**
 * True when `sanitizeComponent` would return `text` unchanged, found without its regular
 * expressions (a 400 000-file torrent has 800 000 components, nearly all like this): printable
 * ASCII without separators, at most 255 bytes, no trailing dot or space (so not `.` or `..`),
 * and not possibly a Windows device name (those start with a, c, l, n or p and have a stem of
 * 3 to 6 characters: such names take the full path).
 */
function isPlainComponent(text: string, windows: boolean): boolean {
  const length = text.length;
  if (length === 0 || length > MAX_COMPONENT_BYTES) return false;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x2f || code === 0x5c) return false;
    if (windows && WINDOWS_FORBIDDEN_CODES.includes(code)) return false;
  }
  const last = text.charCodeAt(length - 1);
  if (last === 0x2e || last === 0x20) return false;
  const first = text.charCodeAt(0) | 0x20;
  if (DEVICE_INITIALS.includes(first)) {
    const dot = text.indexOf('.');
    const stem = dot === -1 ? length : dot;
    if (stem >= 3) return false;
  }
  return true;
}

const WINDOWS_FORBIDDEN_CODES = [...'<>:"|?*'].map((char) => char.charCodeAt(0));
const DEVICE_INITIALS = [...'aclnp'].map((char) => char.charCodeAt(0));

/**
 * Sanitizes a file's components; never returns an empty list. `prefix` (the torrent's
 * directory) goes first when given, so a laid-out path is one array, not two.
 */
export function sanitizePath(
  raw: readonly string[],
  options: SanitizeOptions = {},
  prefix?: string,
): string[] {
  const first = prefix === undefined ? 0 : 1;
  // Sized up front (an array grown by push reserves room for 17), cut if some are dropped.
  const out = new Array<string>(raw.length + first);
  if (prefix !== undefined) out[0] = prefix;
  let length = first;
  for (const component of raw) {
    const clean = sanitizeComponent(component, options);
    if (clean !== null) out[length++] = clean;
  }
  out.length = length;
  if (length === first) out.push(PLACEHOLDER_COMPONENT);
  return out;
}

/**
 * `sanitizePath(components, options, prefix)` written into `components` itself, which it
 * returns: a multi-file torrent's raw components become its laid-out path without a second
 * array per file (a 400 000-file torrent kept both to the end, and the garbage collector
 * copied both on every scavenge). Growing by one slot allocates nothing when the array has
 * spare capacity, which the v1 list reader leaves (files-v1-list.ts). Only for arrays the
 * caller owns and no longer needs as raw components.
 */
export function sanitizePathInPlace(
  components: string[],
  options: SanitizeOptions,
  prefix: string,
): string[] {
  const count = components.length;
  // Shifted right by one from the end, sanitizing on the way; dropped ones leave a gap that
  // the compaction below closes (rare: `..`, empty names).
  components.length = count + 1;
  let dropped = 0;
  for (let i = count; i > 0; i--) {
    const raw = components[i - 1];
    const clean = sanitizeComponent(raw, options);
    if (clean === null) {
      dropped++;
      components[i] = DROPPED;
    } else components[i] = clean;
  }
  components[0] = prefix;
  if (dropped > 0) {
    let length = 1;
    for (let i = 1; i <= count; i++)
      if (components[i] !== DROPPED) components[length++] = components[i];
    components.length = length;
  }
  if (components.length === 1) components.push(PLACEHOLDER_COMPONENT);
  return components;
}

/** Marks a dropped component while `sanitizePathInPlace` works: no sanitized one contains `/`. */
const DROPPED = '/';

/**
 * Where shoal keeps its own files (resume state, bytes of unselected files)
 * inside an output directory. No torrent may use it as its name.
 */
export const STATE_DIR_NAME = '.shoal';

/**
 * The torrent's display name and top directory. A name that sanitizes to
 * nothing becomes `fallback` (the info-hash hex), so it is never empty. The
 * name `.shoal` (in any case, for case-insensitive file systems) becomes
 * `.shoal (1)`: a torrent must not write into shoal's state directory, nor
 * be blocked by it.
 */
export function sanitizeName(raw: string, fallback: string, options: SanitizeOptions = {}): string {
  const name = sanitizeComponent(raw, options) ?? fallback;
  return collisionKey(name) === STATE_DIR_NAME ? withCounter(name, 1) : name;
}

/** `name.ext` -> `name (n).ext`, still within the component length cap. */
export function withCounter(component: string, n: number): string {
  const suffix = ` (${n})`;
  const [stem, ext] = splitExtension(component);
  const room = MAX_COMPONENT_BYTES - utf8Length(suffix) - utf8Length(ext);
  return truncateUtf8(stem, room) + suffix + ext;
}

/**
 * The key two names collide under on some file system: macOS (APFS, HFS+)
 * and Windows (NTFS) compare names case-insensitively, and macOS also after
 * Unicode normalisation, so `Readme.txt` and `README.TXT`, or NFC and NFD
 * `café`, are one file there and one would silently overwrite the other.
 * Upper-casing (full mapping, then lower-cased back) folds more than either
 * file system does (`ß` and `ss`, `σ` and `ς`): a needless rename is harmless,
 * a missed collision loses a file.
 */
export function collisionKey(component: string): string {
  // ASCII (nearly every name) is already NFC and folds the same by lower-casing alone,
  // without the two intermediate strings (a 400 000-file torrent has 800 000 components).
  if (isAscii(component)) return component.toLowerCase();
  return component.normalize('NFC').toUpperCase().toLowerCase();
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
