/**
 * Test data kept in the repository (test/fixtures/, provenance in its README):
 * the tests never read anything outside the checkout.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';

export const fixturesDir = path.resolve(import.meta.dirname, '..', 'fixtures');

/** Real-world and malformed .torrent files (test/fixtures/corpus). */
export const corpusDir = path.join(fixturesDir, 'corpus');

/** The path of one corpus file. */
export function corpusPath(name: string): string {
  return path.join(corpusDir, name);
}

/** Every corpus file name, sorted. */
export function corpusNames(): string[] {
  return readdirSync(corpusDir)
    .filter((name) => name.endsWith('.torrent'))
    .sort();
}
