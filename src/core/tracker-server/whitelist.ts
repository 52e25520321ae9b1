/**
 * The `--whitelist` file: one info-hash a line in hex, `#` starts a comment,
 * blank lines are skipped. A v1 info-hash is 40 hex digits; a v2 one (64)
 * is kept as its first 20 bytes, which is what BEP 52 clients announce.
 * Pure: returns the set of 20-byte keys (latin1) or throws InputError naming
 * the first bad line.
 */
import { InputError } from '../errors.ts';

/** Beyond this many entries the file is not a whitelist (and would cost unbounded memory). */
export const MAX_WHITELIST_ENTRIES = 1_000_000;

export function parseWhitelist(text: string, fileName: string): Set<string> {
  const hashes = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*/, '').trim();
    if (line === '') continue;
    if (!/^(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(line)) {
      const shown = line.length > 70 ? `${line.slice(0, 70)}…` : line;
      throw new InputError(
        `${fileName} line ${i + 1}: "${shown}" is not an info-hash (40 or 64 hex digits)`,
      );
    }
    hashes.add(Buffer.from(line.slice(0, 40), 'hex').toString('latin1'));
    if (hashes.size > MAX_WHITELIST_ENTRIES)
      throw new InputError(`${fileName}: more than ${MAX_WHITELIST_ENTRIES} info-hashes`);
  }
  return hashes;
}
