/**
 * Property tests of .torrent parsing (parse.ts). See test/helpers/fuzz.ts for
 * FUZZ_RUNS / FUZZ_SEED.
 *
 * shoal has no encoder from a parsed Metainfo back to a .torrent (create/
 * builds torrents from files on disk), so the round-trip goes through a test
 * encoder: torrents described here (v1 single- and multi-file, v2 with piece
 * layers) are bencoded, parsed, and compared field by field.
 *
 * What an accepted file re-encodes to: parsing keeps the info dictionary's
 * original bytes (info-hashes are taken over them, whatever their key
 * order), so the canonical statement is that `infoBytes` is exactly the
 * bytes of the file's `info` value, its SHA-1 / SHA-256 are the info-hashes,
 * and parsing `infoBytes` alone (as metadata from a magnet is parsed) gives
 * the same torrent apart from what lives outside `info`. Every rejection is
 * an InputError.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import { decodeBencode, encodeBencode } from '../../../src/core/bencode/index.ts';
import { InputError } from '../../../src/core/errors.ts';
import { parseInfoDict, parseTorrent, pieceLayerRoot } from '../../../src/core/metainfo/parse.ts';
import type { Metainfo } from '../../../src/core/metainfo/types.ts';
import { fixturesDir } from '../../helpers/fixtures.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';

const name = fc.stringMatching(/^[a-z0-9_]{1,8}$/);
const trackers = fc.array(fc.array(fc.webUrl(), { minLength: 1, maxLength: 2 }), { maxLength: 2 });

interface Description {
  version: 'v1' | 'v2';
  name: string;
  pieceLength: number;
  /** Paths under the torrent's directory (one path of one component for a single file). */
  files: { path: string[]; length: number }[];
  multiFile: boolean;
  private: boolean;
  trackers: string[][];
  comment: string | null;
}

const arbDescription: fc.Arbitrary<Description> = fc
  .record({
    version: fc.constantFrom<'v1' | 'v2'>('v1', 'v2'),
    name,
    pieceLength: fc.constantFrom(16384, 32768),
    lengths: fc.array(fc.integer({ min: 0, max: 70_000 }), { minLength: 1, maxLength: 4 }),
    dirs: fc.array(fc.constantFrom([], ['d'], ['d', 'e']), { minLength: 4, maxLength: 4 }),
    multiFile: fc.boolean(),
    private: fc.boolean(),
    trackers,
    comment: fc.option(fc.string({ maxLength: 10 })),
  })
  .map(({ lengths, dirs, multiFile, ...rest }) => {
    const multi = multiFile || lengths.length > 1;
    const files = lengths.map((length, i) => ({
      // Distinct names, so no two files (or a file and a directory) collide.
      path: multi ? [...dirs[i]!, `f${i}`] : [rest.name],
      length,
    }));
    // v2: a tree of one file at its top level is a single-file torrent, named by that file.
    const single =
      rest.version === 'v2' ? files.length === 1 && files[0]!.path.length === 1 : !multi;
    return { ...rest, files, multiFile: !single };
  })
  // A torrent of empty files only has no data: refused (as libtorrent does), not round-tripped.
  .filter((d) => !d.files.every((f) => f.length === 0));

/** Deterministic piece data: hashes made from the description, so one seed gives one torrent. */
function fakeHash(seed: string, size: number): Buffer {
  return createHash(size === 20 ? 'sha1' : 'sha256')
    .update(seed)
    .digest();
}

/** The test encoder: a .torrent for the description, and the info-hash inputs it should yield. */
function encodeTorrent(d: Description): Uint8Array {
  const info: Record<string, unknown> = { name: d.name, 'piece length': d.pieceLength };
  if (d.private) info['private'] = 1;
  const top: Record<string, unknown> = { info };
  if (d.trackers.length > 0) top['announce-list'] = d.trackers;
  if (d.comment !== null) top['comment'] = d.comment;
  if (d.version === 'v1') {
    const total = d.files.reduce((n, f) => n + f.length, 0);
    const count = Math.ceil(total / d.pieceLength);
    info['pieces'] = Buffer.concat(Array.from({ length: count }, (_, i) => fakeHash(`p${i}`, 20)));
    if (d.multiFile) info['files'] = d.files.map((f) => ({ length: f.length, path: f.path }));
    else info['length'] = d.files[0]!.length;
    return encodeBencode(top);
  }
  info['meta version'] = 2;
  const tree: Record<string, unknown> = {};
  const layers = new Map<Buffer, Buffer>();
  d.files.forEach((file, i) => {
    const leaf: Record<string, unknown> = { length: file.length };
    if (file.length > 0) {
      const count = Math.ceil(file.length / d.pieceLength);
      const layer = Buffer.concat(
        Array.from({ length: count }, (_, j) => fakeHash(`l${i}.${j}`, 32)),
      );
      const root =
        file.length > d.pieceLength ? pieceLayerRoot(layer, d.pieceLength) : fakeHash(`r${i}`, 32);
      if (file.length > d.pieceLength) layers.set(root, layer);
      leaf['pieces root'] = root;
    }
    let node = tree;
    for (const part of file.path) node = (node[part] ??= {}) as Record<string, unknown>;
    node[''] = leaf;
  });
  info['file tree'] = tree;
  top['piece layers'] = layers;
  return encodeBencode(top);
}

/** Fields of a parsed torrent that come from the info dictionary alone. */
function infoFields(m: Metainfo) {
  const { trackers, webSeeds, comment, createdBy, creationDate, pieceLayers, ...rest } = m;
  void [trackers, webSeeds, comment, createdBy, creationDate, pieceLayers];
  return rest;
}

const samples = [
  'v1-multi.torrent',
  'v2-multi.torrent',
  'hybrid-multi.torrent',
  'v2-single.torrent',
].map((file) => new Uint8Array(readFileSync(join(fixturesDir, 'metainfo', file))));

describe('.torrent parsing properties', () => {
  fuzzIt(
    'round-trips: what the test encoder writes parses back to the description',
    fc.property(arbDescription, (d) => {
      const bytes = encodeTorrent(d);
      const m = parseTorrent(bytes);
      expect(m.version).toBe(d.version);
      expect(m.name).toBe(d.name);
      expect(m.pieceLength).toBe(d.pieceLength);
      expect(m.multiFile).toBe(d.multiFile);
      expect(m.private).toBe(d.private);
      // Each URL keeps its first place; tiers left empty disappear.
      const seen = new Set<string>();
      const tiers = d.trackers
        .map((tier) => tier.filter((url) => !seen.has(url) && !!seen.add(url)))
        .filter((tier) => tier.length > 0);
      expect(m.trackers).toEqual(tiers);
      expect(m.comment).toBe(d.comment === null ? null : d.comment);
      // v2 lists files in the tree's (sorted) byte order; v1 keeps the list order.
      const expected = d.files.map((f) => ({
        path: d.multiFile ? [d.name, ...f.path] : f.path,
        length: f.length,
      }));
      const order = (files: { path: string[] }[]) =>
        d.version === 'v2'
          ? [...files].sort((a, b) => (a.path.join('\0') < b.path.join('\0') ? -1 : 1))
          : files;
      expect(m.files.map((f) => ({ path: f.path, length: f.length }))).toEqual(order(expected));
      expect(m.totalSize).toBe(d.files.reduce((n, f) => n + f.length, 0));
      const info = decodeBencode(bytes).topLevelRanges.get('info')!;
      expect(hex(m.infoBytes)).toBe(hex(bytes.subarray(info[0], info[1])));
    }),
  );

  fuzzIt(
    'anything accepted: infoBytes are the bytes read, the hashes are theirs, and they parse alone to the same torrent',
    fc.property(
      mutatedFrom(fc.oneof(arbDescription.map(encodeTorrent), fc.constantFrom(...samples)), 80),
      (bytes) => {
        let m: Metainfo;
        try {
          m = parseTorrent(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(InputError);
          return;
        }
        const range = decodeBencode(bytes, { allowTrailing: true }).topLevelRanges.get('info')!;
        expect(hex(m.infoBytes)).toBe(hex(bytes.subarray(range[0], range[1])));
        const sha1 = createHash('sha1').update(m.infoBytes).digest();
        const sha256 = createHash('sha256').update(m.infoBytes).digest();
        if (m.infoHash) expect(hex(m.infoHash)).toBe(hex(sha1));
        if (m.infoHashV2) expect(hex(m.infoHashV2)).toBe(hex(sha256));
        expect(m.infoHash !== null).toBe(m.version !== 'v2');
        expect(m.infoHashV2 !== null).toBe(m.version !== 'v1');
        expect(infoFields(parseInfoDict(m.infoBytes))).toEqual(infoFields(m));
      },
    ),
  );
});
