/**
 * Torrents built by the tests for the corners of BEP 3/47/52 metainfo (issue 17):
 * symlinks, executable and hidden files, padding written every way, piece
 * lengths at the limits, v2 roots and key order, names and empty torrents.
 *
 * Each case is bytes plus what shoal must make of it: `refuse` (a pattern the
 * one-line error must match) or `accept`. parse corner tests check shoal's verdict;
 * the differential test (test/interop/metainfo-differential.test.ts) checks
 * that python3-libtorrent reaches the same one, or that the case is a listed
 * known disagreement.
 */
import { createHash } from 'node:crypto';
import { encodeBencode } from '../../src/core/bencode/index.ts';
import { pieceLayerRoot } from '../../src/core/metainfo/index.ts';

export interface CornerCase {
  id: string;
  bytes: Uint8Array;
  /** What shoal does with it: accept, or refuse with a message matching this. */
  shoal: 'accept' | RegExp;
}

const text = (s: string) => Buffer.from(s, 'utf8');
const TRACKER = text('http://127.0.0.1:1/announce');

/** A distinct non-zero hash of `size` bytes for `seed` (piece hashes are never checked on load). */
export function fakeHash(seed: string, size = 20): Buffer {
  return createHash(size === 20 ? 'sha1' : 'sha256')
    .update(seed)
    .digest();
}

type Dict = Record<string, unknown>;

/** A v1 info dictionary with as many piece hashes as its files need (symlinks and attrs respected). */
function v1Info(info: Dict): Dict {
  const pieceLength = (info['piece length'] as number | undefined) ?? 16384;
  const files = info.files as Dict[] | undefined;
  const lengthOf = (entry: Dict) =>
    String(entry.attr ?? '').includes('l') ? 0 : ((entry.length as number | undefined) ?? 0);
  const total = files ? files.reduce((sum, file) => sum + lengthOf(file), 0) : lengthOf(info);
  const count = pieceLength > 0 ? Math.ceil(total / pieceLength) : 0;
  return {
    name: text('corner'),
    'piece length': pieceLength,
    pieces: Buffer.concat(Array.from({ length: count }, (_, i) => fakeHash(`piece ${i}`))),
    ...info,
  };
}

function torrent(info: Dict, top: Dict = {}): Uint8Array {
  return encodeBencode({ announce: TRACKER, ...top, info });
}

/** A v1 .torrent named `corner` (unless `info` names it) with `info`'s keys and valid piece counts. */
export function v1(info: Dict): Uint8Array {
  return torrent(v1Info(info));
}

/** A v2 leaf: `{'': {length, pieces root}}`, with a root made from `seed` when non-empty. */
function leaf(length: number, seed: string, extra: Dict = {}): Dict {
  return { '': { length, ...(length > 0 ? { 'pieces root': fakeHash(seed, 32) } : {}), ...extra } };
}

function v2Info(tree: Dict, extra: Dict = {}): Dict {
  return {
    'file tree': tree,
    'meta version': 2,
    name: text('corner'),
    'piece length': 16384,
    ...extra,
  };
}

/** Already-encoded bencode, written as is by `unsortedDict`. */
interface Raw {
  raw: Uint8Array;
}

/** Encodes a dictionary keeping `entries` in the order given (to build unsorted ones). */
function unsortedDict(entries: [string | Uint8Array, unknown][]): Raw {
  const parts = entries.flatMap(([key, value]) => [
    encodeBencode(typeof key === 'string' ? text(key) : key),
    typeof value === 'object' && value !== null && 'raw' in value
      ? (value as Raw).raw
      : encodeBencode(value),
  ]);
  return { raw: Buffer.concat([text('d'), ...parts, text('e')]) };
}

/** A torrent whose info dictionary is exactly `infoBytes` (so its key order is kept). */
function torrentWithRawInfo(info: Raw, pieceLayers?: Raw): Uint8Array {
  if (pieceLayers) {
    return unsortedDict([
      ['announce', TRACKER],
      ['info', info],
      ['piece layers', pieceLayers],
    ]).raw;
  }
  return Buffer.concat([
    text('d8:announce'),
    encodeBencode(TRACKER),
    text('4:info'),
    info.raw,
    text('e'),
  ]);
}

/** A hybrid of files a (100 bytes), a pad, and b (50 bytes); `b` adds keys to b's v1 entry and v2 leaf. */
function hybrid(b: { v1?: Dict; v2?: Dict } = {}): Uint8Array {
  return torrent({
    ...v1Info({
      files: [
        { length: 100, path: [text('a')] },
        { length: 16284, path: [text('.pad'), text('16284')], attr: text('p') },
        { length: 50, path: [text('b')], ...b.v1 },
      ],
    }),
    'meta version': 2,
    'file tree': { a: leaf(100, 'a'), b: leaf(50, 'b', b.v2) },
  });
}

const bigLayer = Buffer.concat([fakeHash('l0', 32), fakeHash('l1', 32)]);

export function cornerCases(): CornerCase[] {
  const cases: CornerCase[] = [];
  const add = (id: string, bytes: Uint8Array, shoal: 'accept' | RegExp) =>
    cases.push({ id, bytes, shoal });

  // ---- BEP 47 symlinks: length counts as zero whatever `length` says.
  add(
    'v1-symlink',
    v1({
      files: [
        { length: 100, path: [text('a.txt')] },
        { length: 999, path: [text('link')], attr: text('l'), 'symlink path': [text('a.txt')] },
        {
          length: 7,
          path: [text('sub'), text('up')],
          attr: text('l'),
          'symlink path': [text('sub'), text('b.txt')],
        },
        { length: 10, path: [text('sub'), text('b.txt')] },
      ],
    }),
    'accept',
  );
  add(
    'v1-symlink-without-length',
    v1({
      files: [
        { length: 100, path: [text('a.txt')] },
        { path: [text('link')], attr: text('l'), 'symlink path': [text('a.txt')] },
      ],
    }),
    'accept',
  );
  // No `symlink path`: libtorrent drops the link flag but keeps the zero length.
  add(
    'v1-symlink-without-target',
    v1({
      files: [
        { length: 100, path: [text('a.txt')] },
        { length: 50, path: [text('link')], attr: text('l') },
      ],
    }),
    'accept',
  );
  add(
    'v1-symlink-target-escapes',
    v1({
      files: [
        { length: 100, path: [text('a.txt')] },
        {
          length: 0,
          path: [text('link')],
          attr: text('l'),
          'symlink path': [text('..'), text('..'), text('etc'), text('passwd')],
        },
      ],
    }),
    'accept',
  );
  add(
    'v1-symlink-target-not-strings',
    v1({
      files: [
        { length: 100, path: [text('a.txt')] },
        { length: 0, path: [text('link')], attr: text('l'), 'symlink path': [1, 2] },
      ],
    }),
    /'symlink path' that is not a list of strings/,
  );

  // ---- executable and hidden
  add(
    'v1-executable-hidden',
    v1({
      files: [
        { length: 100, path: [text('run.sh')], attr: text('x') },
        { length: 10, path: [text('.secret')], attr: text('h') },
        { length: 10, path: [text('both')], attr: text('hxz') },
      ],
    }),
    'accept',
  );
  add('v1-single-executable', v1({ name: text('tool'), length: 5000, attr: text('x') }), 'accept');

  // ---- padding files, however their path is written
  const padded = (pad: Dict) =>
    v1({
      files: [
        { length: 100, path: [text('a')] },
        { length: 16284, attr: text('p'), ...pad },
        { length: 50, path: [text('b')] },
      ],
    });
  add('v1-pad-in-pad-folder', padded({ path: [text('.pad'), text('16284')] }), 'accept');
  add('v1-pad-with-any-path', padded({ path: [text('filler'), text('x')] }), 'accept');
  add('v1-pad-without-path', padded({}), 'accept');
  add('v1-pad-with-empty-path', padded({ path: [] }), 'accept');
  add(
    'v1-pad-bitcomet-name',
    v1({
      files: [
        { length: 100, path: [text('a')] },
        { length: 16284, path: [text('_____padding_file_0_')] },
        { length: 50, path: [text('b')] },
        { length: 16334, path: [text('dir'), text('x_____padding_file_1_y')] },
        { length: 5, path: [text('c')] },
      ],
    }),
    'accept',
  );
  add(
    'v1-only-padding',
    v1({ files: [{ length: 16384, path: [text('.pad'), text('16384')], attr: text('p') }] }),
    /total size is zero/,
  );
  add('v1-empty-path', v1({ files: [{ length: 5, path: [] }] }), /file 0 has an empty 'path'/);

  // ---- piece lengths: libtorrent's range, 1 .. 2^30 - 1, for v1
  for (const pieceLength of [1, 1000, 20000, 49152, 2 ** 29, 2 ** 30 - 1]) {
    add(
      `v1-piece-length-${pieceLength}`,
      v1({ 'piece length': pieceLength, length: 3000 }),
      'accept',
    );
  }
  add('v1-piece-length-2^30', v1({ 'piece length': 2 ** 30, length: 3000 }), /over 1 GiB - 1/);
  add(
    'v1-piece-length-0',
    v1({ 'piece length': 0, length: 3000, pieces: Buffer.alloc(20) }),
    /not a positive integer/,
  );

  // ---- names and sizes
  const unnamed = v1Info({ length: 3000 });
  delete unnamed.name;
  add('v1-no-name', torrent(unnamed), /info has no 'name'/);
  add('v1-single-empty-name', v1({ name: text(''), length: 3000 }), /not usable as a file name/);
  add('v1-single-dotdot-name', v1({ name: text('..'), length: 3000 }), /not usable as a file name/);
  add(
    'v1-multi-empty-name',
    v1({ name: text(''), files: [{ length: 5, path: [text('a')] }] }),
    'accept',
  );
  add(
    'v1-multi-dotdot-name',
    v1({ name: text('..'), files: [{ length: 5, path: [text('a')] }] }),
    'accept',
  );
  add('v1-single-zero-size', v1({ length: 0 }), /total size is zero/);
  add(
    'v1-multi-zero-size',
    v1({
      files: [
        { length: 0, path: [text('a')] },
        { length: 0, path: [text('b')] },
      ],
    }),
    /total size is zero/,
  );

  // ---- meta version and key order
  add('v1-meta-version-1', v1({ length: 3000, 'meta version': 1 }), 'accept');
  add('v1-meta-version-3', v1({ length: 3000, 'meta version': 3 }), /unsupported 'meta version' 3/);
  add(
    'v1-file-tree-without-meta-version',
    v1({ length: 100, 'file tree': { corner: leaf(100, 'x') } }),
    /'file tree' but no 'meta version' 2/,
  );
  const v1Unsorted = unsortedDict([
    ['piece length', 16384],
    ['name', text('corner')],
    ['length', 3000],
    ['pieces', fakeHash('piece 0')],
  ]);
  add('v1-unsorted-keys', torrentWithRawInfo(v1Unsorted), 'accept');
  add(
    'v1-meta-version-1-unsorted-keys',
    torrentWithRawInfo(
      unsortedDict([
        ['piece length', 16384],
        ['name', text('corner')],
        ['length', 3000],
        ['meta version', 1],
        ['pieces', fakeHash('piece 0')],
      ]),
    ),
    /out of order/,
  );

  // ---- v2
  add('v2-two-files', torrent(v2Info({ a: leaf(100, 'a'), d: { b: leaf(16384, 'b') } })), 'accept');
  add(
    'v2-empty-file-needs-no-root',
    torrent(v2Info({ a: leaf(100, 'a'), e: leaf(0, 'e') })),
    'accept',
  );
  add(
    'v2-missing-pieces-root',
    torrent(v2Info({ a: { '': { length: 100 } } })),
    /file 'a' has no 32-byte 'pieces root'/,
  );
  add(
    'v2-short-pieces-root',
    torrent(v2Info({ a: { '': { length: 100, 'pieces root': Buffer.alloc(31, 1) } } })),
    /file 'a' has no 32-byte 'pieces root'/,
  );
  add(
    'v2-zero-pieces-root',
    torrent(v2Info({ a: { '': { length: 100, 'pieces root': Buffer.alloc(32) } } })),
    /file 'a' has an all-zero 'pieces root'/,
  );
  add(
    'v2-pad-attribute',
    torrent(v2Info({ a: leaf(100, 'a'), b: leaf(100, 'b', { attr: text('p') }) })),
    /v2 file 'b' has the padding attribute/,
  );
  add(
    'v2-symlink',
    torrent(
      v2Info({
        a: leaf(100, 'a'),
        link: { '': { length: 5, attr: text('l'), 'symlink path': [text('a')] } },
      }),
    ),
    'accept',
  );
  add(
    'v2-executable',
    torrent(v2Info({ a: leaf(100, 'a', { attr: text('x') }), b: leaf(10, 'b') })),
    'accept',
  );
  add('v2-zero-size', torrent(v2Info({ a: leaf(0, 'a'), b: leaf(0, 'b') })), /total size is zero/);
  const v2Unnamed = v2Info({ a: leaf(100, 'a'), b: leaf(10, 'b') });
  delete v2Unnamed.name;
  add('v2-no-name', torrent(v2Unnamed), /info has no 'name'/);
  add(
    'v2-piece-length-20000',
    torrent(v2Info({ a: leaf(100, 'a'), b: leaf(10, 'b') }, { 'piece length': 20000 })),
    /not a power of two of at least 16 KiB/,
  );
  add(
    'v2-piece-length-8192',
    torrent(v2Info({ a: leaf(100, 'a'), b: leaf(10, 'b') }, { 'piece length': 8192 })),
    /not a power of two of at least 16 KiB/,
  );
  add(
    'v2-piece-length-512MiB',
    torrent(v2Info({ a: leaf(100, 'a'), b: leaf(10, 'b') }, { 'piece length': 2 ** 29 })),
    'accept',
  );
  // A file longer than a piece, with its layer: the layer's root is its pieces root.
  // (Binary keys: built by hand, as the encoder would write a latin1 key as UTF-8.)
  const bigRoot = pieceLayerRoot(bigLayer, 16384);
  add(
    'v2-file-with-piece-layer',
    torrentWithRawInfo(
      {
        raw: encodeBencode(
          v2Info({ big: { '': { length: 20000, 'pieces root': bigRoot } }, s: leaf(3, 's') }),
        ),
      },
      unsortedDict([[bigRoot, bigLayer]]),
    ),
    'accept',
  );

  // Key order (BEP 52: the info dictionary is canonical bencode).
  const leafA = encodeBencode({ length: 100, 'pieces root': fakeHash('a', 32) });
  const leafB = encodeBencode({ length: 10, 'pieces root': fakeHash('b', 32) });
  const node = (leafBytes: Uint8Array) => unsortedDict([['', { raw: leafBytes }]]);
  const v2Raw = (tree: Raw, order: 'sorted' | 'unsorted' = 'sorted') => {
    const entries: [string, unknown][] = [
      ['file tree', tree],
      ['meta version', 2],
      ['name', text('corner')],
      ['piece length', 16384],
    ];
    if (order === 'unsorted') entries.reverse();
    return torrentWithRawInfo(unsortedDict(entries));
  };
  add(
    'v2-sorted-by-hand',
    v2Raw(
      unsortedDict([
        ['a', node(leafA)],
        ['b', node(leafB)],
      ]),
    ),
    'accept',
  );
  add(
    'v2-unsorted-file-tree',
    v2Raw(
      unsortedDict([
        ['b', node(leafB)],
        ['a', node(leafA)],
      ]),
    ),
    /key 'a' is out of order/,
  );
  add(
    'v2-unsorted-leaf',
    v2Raw(
      unsortedDict([
        [
          'a',
          unsortedDict([
            [
              '',
              unsortedDict([
                ['pieces root', fakeHash('a', 32)],
                ['length', 100],
              ]),
            ],
          ]),
        ],
        ['b', node(leafB)],
      ]),
    ),
    /key 'length' is out of order/,
  );
  add(
    'v2-unsorted-info',
    v2Raw(
      unsortedDict([
        ['a', node(leafA)],
        ['b', node(leafB)],
      ]),
      'unsorted',
    ),
    /key 'name' is out of order/,
  );

  // ---- hybrid
  add('hybrid-two-files', hybrid(), 'accept');
  add('hybrid-executable', hybrid({ v1: { attr: text('x') }, v2: { attr: text('x') } }), 'accept');
  add('hybrid-pad-in-v2-tree', hybrid({ v2: { attr: text('p') } }), /has the padding attribute/);
  return cases;
}
