/**
 * The corpus (real-world and malformed torrents, test/fixtures/corpus): every file parses
 * or is refused with an InputError, and every accepted file agrees with
 * python3-libtorrent 2.0.8 (and, for v1, transmission-show 3.00).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/core/errors.ts';
import { parseTorrent, toHex, type Metainfo } from '../../../src/core/metainfo/index.ts';
import { corpusDir, corpusNames } from '../../helpers/fixtures.ts';

const fixturesDir = join(import.meta.dirname, '../../fixtures/metainfo');
const corpus = corpusNames();

function tryParse(path: string): Metainfo | InputError {
  try {
    return parseTorrent(readFileSync(path));
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
}

const rejected: Record<string, RegExp> = {
  // `pieces` is a list, not a string.
  'bad-pieces-key.torrent': /'pieces' is not a string/,
  // Two `pieces` keys: libtorrent takes one of them; shoal's bencode layer refuses duplicate
  // keys outright, because which value counts (and so what the torrent means) is ambiguous.
  'dup-pieces-key.torrent': /duplicate dictionary key "pieces"/,
  'empty-pieces-key.torrent': /'pieces' has 0 hashes but the files need 2/,
  'invalid-pieces-length.torrent': /'pieces' length 119 is not a multiple of 20/,
  'missing-pieces-key.torrent': /missing 'pieces'/,
  'too-few-pieces.torrent': /'pieces' has 6 hashes but the files need 7/,
  'too-many-pieces.torrent': /'pieces' has 6 hashes but the files need 5/,
  // No `info` at all, only a `magnet-info` block; libtorrent refuses it too.
  'gimp-2.10.32-1-arm64.dmg.torrent': /missing 'info' dictionary/,
};

describe('corpus', () => {
  it.each(corpus)('%s parses or fails with a one-line InputError', (name) => {
    const result = tryParse(join(corpusDir, name));
    if (result instanceof InputError) {
      expect(result.exitCode).toBe(3);
      expect(result.message).not.toContain('\n');
      expect(result.message).toMatch(/^invalid torrent: /);
    }
    if (name in rejected) {
      expect(result).toBeInstanceOf(InputError);
      expect((result as InputError).message).toMatch(rejected[name]);
    } else {
      expect(result).not.toBeInstanceOf(InputError);
    }
  });

  it('dup-files: the second file1.txt is renamed, not overwritten', () => {
    const meta = parseTorrent(readFileSync(join(corpusDir, 'dup-files.torrent')));
    expect(meta.files.map((file) => file.path.join('/'))).toEqual([
      'ThisIsMyTorrent/file1.txt',
      'ThisIsMyTorrent/file2.mkv',
      'ThisIsMyTorrent/file1 (1).txt',
    ]);
  });

  it('bad-utf8-path: invalid UTF-8 bytes become "_", valid ones are kept', () => {
    const meta = parseTorrent(readFileSync(join(corpusDir, 'bad-utf8-path.torrent')));
    expect(meta.files.map((file) => file.path.join('/'))).toEqual([
      'bad-utf8-path/πfile.😀😀😀',
      'bad-utf8-path/file_.foo',
    ]);
  });

  it('unordered-info-dict: accepted, hashed over the original (unsorted) bytes', () => {
    // Decision: non-canonical key order is tolerated, as libtorrent and transmission do. The
    // hash must be over the bytes as given, never over a re-encoding (which would sort the keys
    // and produce the hash of a different torrent).
    const meta = parseTorrent(readFileSync(join(corpusDir, 'unordered-info-dict.torrent')));
    expect(toHex(meta.infoHash!)).toBe('e44a814ac5ed962f9181638d1136a6aface3f734');
  });

  it('perfect-pieces parses with exactly the piece count its files need', () => {
    const meta = parseTorrent(readFileSync(join(corpusDir, 'perfect-pieces.torrent')));
    expect(meta.pieceCount).toBe(6);
    expect(meta.private).toBe(true);
    expect(meta.source).toBe('Example Tracker');
    expect(meta.comment).toBe('sample torrent');
    expect(meta.createdBy).toBe('uTorrent/2040');
    expect(meta.creationDate?.toISOString()).toBe('2011-09-26T17:00:33.000Z');
  });

  it('bitcomet: name.utf-8 / path.utf-8 win over the GBK fields', () => {
    const meta = parseTorrent(readFileSync(join(corpusDir, 'bitcomet.utf-8.special.torrent')));
    expect(meta.name).toBe('modified test-utf8');
    expect(meta.files[0].path).toEqual(['modified test-utf8', '別の世界f1.txt']);
  });

  it('web seeds as a string and as a list (BEP 19)', () => {
    const list = parseTorrent(readFileSync(join(corpusDir, 'webseed-getright-list.torrent')));
    const single = parseTorrent(readFileSync(join(corpusDir, 'webseed-getright-string.torrent')));
    expect(list.webSeeds).toEqual(['http://www.webseed-one.com/', 'http://webseed-two.com/']);
    expect(single.webSeeds).toEqual(['http://www.webseed-one.com/']);
  });

  it('Android-x86: a hybrid whose v1 part is a one-file directory and v2 part a single file', () => {
    // libtorrent accepts this and uses the v1 layout (with the directory); so does shoal.
    const meta = parseTorrent(readFileSync(join(corpusDir, 'Android-x86 8.1 r6 iso.torrent')));
    expect(meta.version).toBe('hybrid');
    expect(meta.multiFile).toBe(true);
    expect(meta.files[0].path).toEqual(['android x86 8.1 r6 ISO', 'android-x86-8.1-r6.iso']);
    expect(meta.files[0].piecesRoot).toHaveLength(32);
  });
});

interface LibtorrentView {
  path: string;
  error?: string;
  v1: string | null;
  v2: string | null;
  name: string;
  numFiles: number;
  totalSize: number;
  pieceLength: number;
  numPieces: number;
  files: { path: string; size: number; offset: number; pad: boolean }[];
  trackers: [string, number][];
  webSeeds: string[];
  private: boolean;
}

function libtorrentView(paths: string[]): Map<string, LibtorrentView> {
  const output = execFileSync(
    '/usr/bin/python3',
    [join(import.meta.dirname, 'libtorrent-dump.py'), ...paths],
    { timeout: 60_000, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const views = output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as LibtorrentView);
  return new Map(views.map((view) => [view.path, view]));
}

/** Where shoal deliberately differs from libtorrent on a file's path. */
const pathDifferences: Record<string, string[]> = {
  // libtorrent renames the duplicate to "file1.1.txt"; shoal uses the " (1)" convention that
  // file managers use. Both keep the two files apart, which is what matters.
  'dup-files.torrent': ['ThisIsMyTorrent/file1.1.txt', 'ThisIsMyTorrent/file1 (1).txt'],
};

describe('cross-check with python3-libtorrent 2.0.8', () => {
  const fixtures = readdirSync(fixturesDir)
    .filter((name) => name.endsWith('.torrent'))
    .map((name) => join(fixturesDir, name));
  const paths = [...corpus.map((name) => join(corpusDir, name)), ...fixtures];
  // Read in beforeAll, not while collecting: without libtorrent these tests fail (with the
  // reason) and the plain corpus tests above still run.
  let views = new Map<string, LibtorrentView>();
  beforeAll(() => {
    views = libtorrentView(paths);
  }, 90_000);

  it.each(paths)('%s', (path) => {
    const view = views.get(path)!;
    const ours = tryParse(path);
    const name = path.split('/').at(-1)!;
    if (ours instanceof InputError) {
      // Every refusal libtorrent disagrees with is argued for in the `rejected` table above.
      if (!view.error) expect(name).toBe('dup-pieces-key.torrent');
      return;
    }
    // shoal accepted it: libtorrent must too, and both must read it the same way.
    expect(view.error).toBeUndefined();
    expect(ours.infoHash ? toHex(ours.infoHash) : null).toBe(view.v1);
    expect(ours.infoHashV2 ? toHex(ours.infoHashV2) : null).toBe(view.v2);
    expect(ours.name).toBe(view.name);
    expect(ours.pieceLength).toBe(view.pieceLength);
    expect(ours.pieceCount).toBe(view.numPieces);
    expect(ours.private).toBe(view.private);

    // libtorrent lists padding for v2-only torrents too (it synthesises `.pad/N` files);
    // shoal leaves those gaps implicit (TorrentFile.offset), so compare the real files.
    const theirs = view.files.filter((file) => !file.pad);
    const real = ours.files.filter((file) => !file.padding);
    const difference = pathDifferences[name];
    expect(real.map((file) => file.path.join('/'))).toEqual(
      theirs.map((file) => (difference && file.path === difference[0] ? difference[1] : file.path)),
    );
    expect(real.map((file) => file.length)).toEqual(theirs.map((file) => file.size));
    expect(real.map((file) => file.offset)).toEqual(theirs.map((file) => file.offset));
    expect(ours.totalSize).toBe(theirs.reduce((sum, file) => sum + file.size, 0));
    if (ours.version !== 'v2') {
      // v1 and hybrid: the padding files are in the metainfo; both list them identically.
      expect(ours.files.length).toBe(view.numFiles);
      expect(ours.spaceSize).toBe(view.totalSize);
    }

    expect(ours.trackers.flatMap((tier, index) => tier.map((url) => [url, index]))).toEqual(
      view.trackers,
    );
    expect(ours.webSeeds).toEqual(view.webSeeds);
  });
});

describe('cross-check with transmission-show', () => {
  // transmission-show 3.00 reads v1 only; compare the v1 torrents shoal accepts.
  // unordered-info-dict is left out: transmission 3.00 hashes a re-encoded (sorted) info
  // dictionary and so reports the hash of a different torrent (efa7eb…, the sorted twin
  // perfect-pieces). BEP 3 defines the hash over the bytes in the file, which is what
  // libtorrent and shoal compute and what the swarm for this file uses.
  const v1Files = corpus.filter((name) => {
    if (name === 'unordered-info-dict.torrent') return false;
    const result = tryParse(join(corpusDir, name));
    return !(result instanceof InputError) && result.version === 'v1';
  });

  it.each(v1Files)('%s', (name) => {
    const meta = parseTorrent(readFileSync(join(corpusDir, name)));
    const output = execFileSync('transmission-show', [join(corpusDir, name)], {
      timeout: 30_000,
      killSignal: 'SIGKILL',
      encoding: 'utf8',
    });
    expect(output).toContain(`Hash: ${toHex(meta.infoHash!)}`);
    expect(output).toContain(`Piece Count: ${meta.pieceCount}`);
    expect(output).toContain(meta.private ? 'Private torrent' : 'Public torrent');
    const tiers = output.split('\nTRACKERS\n')[1]?.split('\nFILES\n')[0] ?? '';
    for (const tier of meta.trackers) for (const url of tier) expect(tiers).toContain(url);
  });
});
