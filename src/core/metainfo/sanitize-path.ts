/**
 * Turns the path components a .torrent claims into components that are safe
 * to join under an output directory (DESIGN.md §4: never write outside it).
 *
 * Two stages:
 * - `sanitizePath` makes each file's components individually safe: no `.`,
 *   `..`, empty components, separators, NUL/control characters, Windows
 *   device names or trailing dots/spaces, and at most 255 UTF-8 bytes each.
 * - `disambiguatePaths` makes the set of files safe: no two files share a
 *   path and no file sits where another file needs a directory.
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

/** Sanitizes a file's components; never returns an empty list. */
export function sanitizePath(raw: readonly string[], options: SanitizeOptions = {}): string[] {
  const out: string[] = [];
  for (const component of raw) {
    const clean = sanitizeComponent(component, options);
    if (clean !== null) out.push(clean);
  }
  if (out.length === 0) out.push(PLACEHOLDER_COMPONENT);
  return out;
}

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
  return name.toLowerCase() === STATE_DIR_NAME ? withCounter(name, 1) : name;
}

/** `name.ext` -> `name (n).ext`, still within the component length cap. */
export function withCounter(component: string, n: number): string {
  const suffix = ` (${n})`;
  const [stem, ext] = splitExtension(component);
  const room = MAX_COMPONENT_BYTES - utf8Length(suffix) - utf8Length(ext);
  return truncateUtf8(stem, room) + suffix + ext;
}

/**
 * Renames files (case-sensitively) so that no two share a path and no file
 * occupies a path another file needs as a directory. Earlier files keep their
 * names; later ones get ` (1)`, ` (2)`… before the extension. A directory
 * component that collides with an earlier file is renamed the same way (and
 * every later file in that directory follows it to the same new name).
 * Input components must already be sanitized.
 */
export function disambiguatePaths(paths: readonly (readonly string[])[]): string[][] {
  const files = new Set<string>();
  const dirs = new Set<string>();
  // Remembered counters keep this linear when thousands of files share one name.
  const dirRenames = new Map<string, string>();
  const nextCounter = new Map<string, number>();
  const out: string[][] = [];
  // NUL cannot occur in a sanitized component, so it joins keys unambiguously.
  const key = (components: readonly string[]) => components.join('\u0000');

  for (const original of paths) {
    const path = [...original];
    for (let i = 0; i < path.length - 1; i++) {
      const prefixKey = key(path.slice(0, i + 1));
      if (!files.has(prefixKey)) continue;
      let renamed = dirRenames.get(prefixKey);
      if (renamed === undefined) {
        const parent = path.slice(0, i);
        for (let n = 1; ; n++) {
          renamed = withCounter(path[i], n);
          if (!files.has(key([...parent, renamed]))) break;
        }
        dirRenames.set(prefixKey, renamed);
      }
      path[i] = renamed;
    }
    const last = path.length - 1;
    const baseKey = key(path);
    if (files.has(baseKey) || dirs.has(baseKey)) {
      const base = path[last];
      let n = nextCounter.get(baseKey) ?? 1;
      for (; ; n++) {
        path[last] = withCounter(base, n);
        if (!files.has(key(path)) && !dirs.has(key(path))) break;
      }
      nextCounter.set(baseKey, n + 1);
    }
    files.add(key(path));
    for (let i = 1; i < path.length; i++) dirs.add(key(path.slice(0, i)));
    out.push(path);
  }
  return out;
}
