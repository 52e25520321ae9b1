import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBencode, encodeBencode } from '../../../src/core/bencode/index.ts';
import { InputError } from '../../../src/core/errors.ts';
import {
  metainfoToJson,
  parseInfoDict,
  parseTorrent,
  toHex,
  type Metainfo,
} from '../../../src/core/metainfo/index.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 300);
const fixtures = join(import.meta.dirname, '../../fixtures/metainfo');
const fixture = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)));
const text = (s: string) => new TextEncoder().encode(s);

/** A valid v1 torrent object (before encoding) with `overrides` merged into info / top level. */
function v1Torrent(
  info: Record<string, unknown> = {},
  top: Record<string, unknown> = {},
): Record<string, unknown> {
  const pieceLength = (info['piece length'] as number | undefined) ?? 16384;
  const files = (info.files as { length: number }[] | undefined) ?? null;
  const total = files
    ? files.reduce((sum, file) => sum + file.length, 0)
    : ((info.length as number | undefined) ?? 20000);
  const count = pieceLength > 0 && !('pieces' in info) ? Math.ceil(total / pieceLength) : 0;
  const base: Record<string, unknown> = {
    name: text('demo'),
    'piece length': pieceLength,
    pieces: new Uint8Array(count * 20),
  };
  if (!files) base.length = total;
  return { announce: text('http://tracker.example/announce'), ...top, info: { ...base, ...info } };
}

function parse(torrent: Record<string, unknown>): Metainfo {
  return parseTorrent(encodeBencode(torrent));
}

function expectInputError(action: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(InputError);
  expect((caught as InputError).message).toMatch(message);
}

/** Replaces one occurrence of `from` with `to` (same length, so the bencode stays valid). */
function patch(bytes: Uint8Array, from: Uint8Array | string, to: Uint8Array | string): Uint8Array {
  const source = Buffer.from(bytes);
  const needle = typeof from === 'string' ? Buffer.from(from, 'latin1') : Buffer.from(from);
  const replacement = typeof to === 'string' ? Buffer.from(to, 'latin1') : Buffer.from(to);
  const at = source.indexOf(needle);
  expect(at).toBeGreaterThanOrEqual(0);
  expect(replacement.length).toBe(needle.length);
  replacement.copy(source, at);
  return new Uint8Array(source);
}

describe('parseTorrent: v1', () => {
  it('reads a single-file torrent', () => {
    const meta = parse(v1Torrent());
    expect(meta.version).toBe('v1');
    expect(meta.multiFile).toBe(false);
    expect(meta.files).toEqual([
      { path: ['demo'], length: 20000, offset: 0, padding: false, attr: '', piecesRoot: null },
    ]);
    expect(meta.pieceCount).toBe(2);
    expect(meta.totalSize).toBe(20000);
    expect(meta.trackers).toEqual([['http://tracker.example/announce']]);
    expect(meta.infoHashV2).toBeNull();
  });

  it('hashes the info dictionary over its original bytes', () => {
    const bytes = encodeBencode(v1Torrent());
    const { topLevelRanges } = decodeBencode(bytes);
    const [start, end] = topLevelRanges.get('info')!;
    const meta = parseTorrent(bytes);
    const { createHash } = process.getBuiltinModule('node:crypto');
    expect(toHex(meta.infoHash!)).toBe(
      createHash('sha1').update(bytes.subarray(start, end)).digest('hex'),
    );
    expect(Buffer.from(meta.infoBytes).equals(Buffer.from(bytes.subarray(start, end)))).toBe(true);
  });

  it.each([
    [0, /'piece length' is not a positive integer/],
    [-16384, /'piece length' is not a positive integer/],
    // libtorrent's limit (INT_MAX / 2): it refuses 1 GiB pieces, so shoal does too.
    [2 ** 30, /'piece length' 1073741824 is over 1 GiB - 1/],
  ])('refuses piece length %d', (pieceLength, message) => {
    expectInputError(() => parse(v1Torrent({ 'piece length': pieceLength })), message);
  });

  // BEP 3 does not ask v1 piece lengths to be powers of two; libtorrent and transmission take any.
  it.each([1, 3, 1024, 20000, 32768, 49152, 100000, 512 * 1024 * 1024, 2 ** 30 - 1])(
    'accepts v1 piece length %d',
    (pl) => {
      expect(parse(v1Torrent({ 'piece length': pl })).pieceLength).toBe(pl);
    },
  );

  it('refuses negative lengths and totals past a safe integer', () => {
    expectInputError(
      () => parse(v1Torrent({ files: [{ length: -1, path: [text('a')] }] })),
      /file 0 has no valid 'length'/,
    );
    const huge = 2 ** 52;
    const torrent = v1Torrent({
      files: [
        { length: huge, path: [text('a')] },
        { length: huge, path: [text('b')] },
      ],
      'piece length': 16384,
      pieces: new Uint8Array(20),
    });
    expectInputError(() => parse(torrent), /total size is too large/);
  });

  it('refuses a pieces string of the wrong size', () => {
    expectInputError(
      () => parse(v1Torrent({ pieces: new Uint8Array(57) })),
      /'pieces' length 57 is not a multiple of 20/,
    );
    expectInputError(
      () => parse(v1Torrent({ pieces: new Uint8Array(60) })),
      /'pieces' has 3 hashes but the files need 2/,
    );
  });

  it('refuses structural nonsense with specific messages', () => {
    expectInputError(() => parseTorrent(text('i42e')), /not a bencoded dictionary/);
    expectInputError(() => parseTorrent(text('d4:infoi1ee')), /missing 'info' dictionary/);
    expectInputError(() => parseTorrent(text('d4:info')), /not valid bencode/);
    expectInputError(() => parse(v1Torrent({ files: [] })), /'files' is empty/);
    expectInputError(
      () => parse(v1Torrent({ files: [{ length: 1, path: [text('a')] }], length: 1 })),
      /both 'length' and 'files'/,
    );
    expectInputError(() => parse(v1Torrent({ 'meta version': 3 })), /unsupported 'meta version' 3/);
    expectInputError(
      () => parse(v1Torrent({ files: [{ length: 1, path: text('a') }] })),
      /file 0 has no valid 'path'/,
    );
  });

  it('accepts a trailing newline but not other trailing data', () => {
    const bytes = encodeBencode(v1Torrent());
    expect(parseTorrent(Buffer.concat([bytes, text('\r\n')])).name).toBe('demo');
    expectInputError(
      () => parseTorrent(Buffer.concat([bytes, text('<html>')])),
      /unexpected data after the torrent/,
    );
  });

  it('sanitizes hostile paths and keeps every file inside the torrent directory', () => {
    const meta = parse(
      v1Torrent({
        files: [
          { length: 1, path: [text('..'), text('..'), text('etc'), text('passwd')] },
          { length: 1, path: [text('/abs'), text('a\\b'), text('nul\u0000byte')] },
          { length: 1, path: [text('CON'), text('x. ')] },
          { length: 1, path: [text('..')] },
        ],
      }),
    );
    expect(meta.files.map((file) => file.path)).toEqual([
      ['demo', 'etc', 'passwd'],
      ['demo', '_abs', 'a_b', 'nulbyte'],
      ['demo', 'CON_', 'x'],
      ['demo', '_'],
    ]);
  });

  it('a multi-file name that sanitizes to nothing becomes the info-hash hex', () => {
    const meta = parse(v1Torrent({ name: text('..'), files: [{ length: 5, path: [text('a')] }] }));
    expect(meta.name).toBe(toHex(meta.infoHash!));
    expect(meta.files[0].path).toEqual([meta.name, 'a']);
  });

  it('refuses a single file with no usable name, as libtorrent does (nothing to call the file)', () => {
    for (const name of ['..', '', '.']) {
      expectInputError(
        () => parse(v1Torrent({ name: text(name) })),
        /'name' is empty or not usable as a file name/,
      );
    }
  });

  it('refuses a torrent with no name at all, or a name that is not a string', () => {
    const noName = v1Torrent();
    delete (noName.info as Record<string, unknown>).name;
    expectInputError(() => parse(noName), /info has no 'name'/);
    expectInputError(() => parse(v1Torrent({ name: 5 })), /'name' is not a string/);
    // name.utf-8 alone is enough (libtorrent prefers it anyway).
    const utf8Only = v1Torrent({ 'name.utf-8': text('ü') });
    delete (utf8Only.info as Record<string, unknown>).name;
    expect(parse(utf8Only).name).toBe('ü');
  });

  it('refuses an empty path for a file that is not padding (libtorrent: missing name)', () => {
    expectInputError(
      () => parse(v1Torrent({ files: [{ length: 1, path: [] }] })),
      /file 0 has an empty 'path'/,
    );
  });

  it('refuses a torrent whose total size is zero, however it gets there', () => {
    expectInputError(() => parse(v1Torrent({ length: 0 })), /total size is zero/);
    expectInputError(
      () => parse(v1Torrent({ files: [{ length: 0, path: [text('a')] }] })),
      /total size is zero/,
    );
    // Only padding: nothing to download either (libtorrent differs; see metainfo-differential).
    expectInputError(
      () =>
        parse(
          v1Torrent({
            files: [{ length: 16384, path: [text('.pad'), text('0')], attr: text('p') }],
          }),
        ),
      /total size is zero/,
    );
  });

  it('prefers valid name.utf-8 / path.utf-8 and ignores invalid ones', () => {
    const valid = parse(v1Torrent({ name: text('x'), 'name.utf-8': text('ünï') }));
    expect(valid.name).toBe('ünï');
    const invalid = parse(v1Torrent({ name: text('plain'), 'name.utf-8': new Uint8Array([0xff]) }));
    expect(invalid.name).toBe('plain');
  });

  it('marks BEP 47 and legacy padding files, and keeps them out of the total size', () => {
    const meta = parse(
      v1Torrent({
        files: [
          { length: 100, path: [text('a')] },
          { length: 16284, path: [text('.pad'), text('16284')], attr: text('p') },
          { length: 10, path: [text('_____padding_file_0_')] },
          { length: 5, path: [text('b')], attr: text('x') },
        ],
      }),
    );
    expect(meta.files.map((file) => [file.padding, file.offset, file.attr])).toEqual([
      [false, 0, ''],
      [true, 100, 'p'],
      [true, 16384, ''],
      [false, 16394, 'x'],
    ]);
    expect(meta.totalSize).toBe(105);
    expect(meta.spaceSize).toBe(16399);
  });

  it('reads tiers (BEP 12), web seeds (BEP 19), private (BEP 27) and the optional fields', () => {
    const meta = parse(
      v1Torrent(
        { private: 1, source: text('SRC') },
        {
          announce: text('http://ignored.example/announce'),
          'announce-list': [
            [text(' http://a/announce '), text(''), 7, text('udp://b:80')],
            [text('http://a/announce')],
            text('wss://bare-string-tier'),
            [],
          ],
          'url-list': [text('http://seed/'), 5, text('http://seed/'), text('')],
          comment: text('hello'),
          'created by': text('tool'),
          'creation date': 1_700_000_000,
        },
      ),
    );
    expect(meta.trackers).toEqual([
      ['http://a/announce', 'udp://b:80'],
      ['wss://bare-string-tier'],
    ]);
    expect(meta.webSeeds).toEqual(['http://seed/']);
    expect(meta.private).toBe(true);
    expect(meta.source).toBe('SRC');
    expect(meta.comment).toBe('hello');
    expect(meta.createdBy).toBe('tool');
    expect(meta.creationDate?.toISOString()).toBe('2023-11-14T22:13:20.000Z');
  });

  it('out-of-range creation dates and private != 1 are ignored', () => {
    for (const date of [-1, 0, 2 ** 50]) {
      expect(parse(v1Torrent({}, { 'creation date': date })).creationDate).toBeNull();
    }
    expect(parse(v1Torrent({ private: 2 })).private).toBe(false);
    expect(parse(v1Torrent({}, { 'announce-list': [[]] })).trackers).toEqual([
      ['http://tracker.example/announce'],
    ]);
  });

  it('invalid UTF-8 in display text becomes U+FFFD, never an exception', () => {
    const meta = parse(v1Torrent({}, { comment: new Uint8Array([0x61, 0xff, 0x62]) }));
    expect(meta.comment).toBe('a\uFFFDb');
  });
});

describe('parseTorrent: v2 and hybrid (fixtures made by libtorrent)', () => {
  it('v2: files aligned to pieces, roots and verified piece layers', () => {
    const meta = parseTorrent(fixture('v2-multi.torrent'));
    expect(meta.version).toBe('v2');
    expect(meta.infoHash).toBeNull();
    expect(meta.files.map((file) => [file.path.join('/'), file.length, file.offset])).toEqual([
      ['multi/a.bin', 40000, 0],
      ['multi/empty.txt', 0, 49152],
      ['multi/sub/b.bin', 100000, 49152],
      ['multi/sub/c.txt', 5000, 163840],
    ]);
    expect(meta.files[1].piecesRoot).toBeNull();
    expect(meta.files[0].piecesRoot).toHaveLength(32);
    // Layers for the files longer than one piece only.
    expect(meta.pieceLayers.size).toBe(2);
    expect(meta.pieceLayers.get(toHex(meta.files[0].piecesRoot!))).toHaveLength(3 * 32);
    expect(meta.pieces).toBeNull();
  });

  it('v2 single file: the tree key names the file', () => {
    const meta = parseTorrent(fixture('v2-single.torrent'));
    expect(meta.multiFile).toBe(false);
    expect(meta.files.map((file) => file.path)).toEqual([['single.bin']]);
    expect(meta.pieceCount).toBe(5);
  });

  it('v2: the piece space ends on a piece boundary, as libtorrent pads the last file', () => {
    const meta = parseTorrent(fixture('v2-multi.torrent'));
    const last = meta.files[meta.files.length - 1]!;
    expect(last.offset + last.length).toBeLessThan(meta.spaceSize);
    expect(meta.spaceSize).toBe(meta.pieceCount * meta.pieceLength);
  });

  it('hybrid: v1 list with padding, v2 roots attached to the real files', () => {
    const meta = parseTorrent(fixture('hybrid-multi.torrent'));
    expect(meta.version).toBe('hybrid');
    expect(meta.infoHash).toHaveLength(20);
    expect(meta.infoHashV2).toHaveLength(32);
    const real = meta.files.filter((file) => !file.padding);
    expect(real.map((file) => file.piecesRoot === null)).toEqual([false, true, false, false]);
    expect(real.every((file) => file.length === 0 || file.offset % meta.pieceLength === 0)).toBe(
      true,
    );
  });

  it('refuses a piece layer that does not match its root', () => {
    const bytes = fixture('v2-multi.torrent');
    const meta = parseTorrent(bytes);
    const layer = meta.pieceLayers.get(toHex(meta.files[0].piecesRoot!))!;
    const tampered = Uint8Array.from(layer);
    tampered[5] ^= 1;
    expectInputError(
      () => parseTorrent(patch(bytes, layer, tampered)),
      /piece layer for 'a.bin' does not match its pieces root/,
    );
  });

  it('leaves a missing piece layer out (to be fetched from peers), in a .torrent and magnet metadata', () => {
    const bytes = fixture('v2-multi.torrent');
    const meta = parseTorrent(bytes);
    const root = meta.files[0].piecesRoot!;
    const otherRoot = Uint8Array.from(root);
    otherRoot[0] ^= 1;
    // The file tree now names a root that no layer in the file has: accepted, as libtorrent does.
    const missing = parseTorrent(patch(bytes, root, otherRoot));
    expect(missing.pieceLayers.has(toHex(otherRoot))).toBe(false);
    expect(missing.pieceLayers.has(toHex(root))).toBe(false);
    expect(missing.pieceLayers.size).toBe(1);
    const fromMagnet = parseInfoDict(meta.infoBytes);
    expect(toHex(fromMagnet.infoHashV2!)).toBe(toHex(meta.infoHashV2!));
    expect(fromMagnet.pieceLayers.size).toBe(0);
    expect(fromMagnet.files.map((file) => file.path)).toEqual(meta.files.map((file) => file.path));
  });

  it('refuses a hybrid whose v1 and v2 parts disagree', () => {
    const bytes = fixture('hybrid-multi.torrent');
    expectInputError(
      () => parseTorrent(patch(bytes, '6:lengthi5000e4:path', '6:lengthi5001e4:path')),
      /hybrid v1 and v2 lengths differ for 'sub\/c.txt'/,
    );
    expectInputError(
      () => parseTorrent(patch(bytes, '5:c.txte', '5:d.txte')),
      /hybrid v1 and v2 file lists differ at 'sub\/c.txt'/,
    );
  });

  it('v2 needs a power-of-two piece length of at least 16 KiB', () => {
    const bytes = fixture('v2-single.torrent');
    expectInputError(
      () => parseTorrent(patch(bytes, '12:piece lengthi16384e', '12:piece lengthi16383e')),
      /not a power of two of at least 16 KiB/,
    );
  });

  /** A bare v2 info dictionary (as from a magnet), so no piece layers are needed. */
  function v2Info(tree: unknown, extra: Record<string, unknown> = {}): Uint8Array {
    return encodeBencode({
      'file tree': tree,
      'meta version': 2,
      name: text('t'),
      'piece length': 16384,
      ...extra,
    });
  }
  const root = new Uint8Array(32).fill(7);

  it.each([
    [{ a: { '': { length: 1, 'pieces root': root }, b: {} } }, /both a file and a directory/],
    [{ '': { length: 1, 'pieces root': root } }, /'file tree' root is a file/],
    [{}, /'file tree' has no files/],
    [{ a: { '': { length: 1 } } }, /file 'a' has no 32-byte 'pieces root'/],
    [{ a: { '': { length: -1 } } }, /file 'a' has no valid 'length'/],
    [{ a: { '': 5 } }, /file tree entry 'a' is not a dictionary/],
    [{ a: 5 }, /file tree entry is not a dictionary/],
    [5, /'file tree' is not a dictionary/],
  ])('refuses the v2 file tree %j', (tree, message) => {
    expectInputError(() => parseInfoDict(v2Info(tree)), message);
  });

  it('walks a v2 tree in byte order with bounded depth', () => {
    const meta = parseInfoDict(
      v2Info({
        b: { '': { length: 0 } },
        a: { x: { '': { length: 1, 'pieces root': root } }, '..': { '': { length: 0 } } },
      }),
    );
    expect(meta.files.map((file) => [file.path.join('/'), file.offset])).toEqual([
      // `a/..` sanitizes to the file `a`, so the directory `a` of `a/x` must yield its name.
      ['t/a', 0],
      ['t/a (1)/x', 0],
      ['t/b', 16384],
    ]);
    let deep: Record<string, unknown> = { '': { length: 0 } };
    for (let i = 0; i < 61; i++) deep = { d: deep };
    expectInputError(() => parseInfoDict(v2Info(deep)), /deeper than 60|nesting deeper/);
  });

  it('caps v2 paths at 4096 bytes', () => {
    let long: Record<string, unknown> = { '': { length: 0 } };
    for (let i = 0; i < 20; i++) long = { ['d'.repeat(250)]: long };
    expectInputError(() => parseInfoDict(v2Info(long)), /longer than 4096 bytes/);
  });

  it('caps v1 paths at 60 components and 4096 bytes, in path and path.utf-8 alike', () => {
    const files = (path: Uint8Array[], key = 'path') => [{ length: 1, [key]: path }];
    const components = (n: number, size = 1) =>
      Array.from({ length: n }, () => text('a'.repeat(size)));
    expect(parse(v1Torrent({ files: files(components(60)) })).files[0].path).toHaveLength(61);
    expectInputError(() => parse(v1Torrent({ files: files(components(61)) })), /deeper than 60/);
    expectInputError(
      () =>
        parse(
          v1Torrent({
            files: [{ length: 1, path: [text('a')], 'path.utf-8': components(40_000) }],
          }),
        ),
      /file 0 has a path deeper than 60/,
    );
    // 15 components of 255 bytes, one of 256 and 15 separators: 4096 bytes, then one more.
    expect(
      parse(v1Torrent({ files: files([...components(15, 255), text('a'.repeat(256))]) })).files,
    ).toHaveLength(1);
    expectInputError(
      () => parse(v1Torrent({ files: files([...components(15, 255), text('a'.repeat(257))]) })),
      /longer than 4096 bytes/,
    );
  });
});

describe('metainfoToJson', () => {
  it('has exactly the inspect --json shape', () => {
    const json = metainfoToJson(parseTorrent(fixture('hybrid-multi.torrent')));
    expect(Object.keys(json).sort()).toEqual(
      [
        'name',
        'infoHash',
        'infoHashV2',
        'version',
        'pieceLength',
        'pieceCount',
        'totalSize',
        'private',
        'files',
        'trackers',
        'webSeeds',
        'comment',
        'createdBy',
        'creationDate',
        'source',
        'magnet',
      ].sort(),
    );
    expect(json.version).toBe('hybrid');
    expect(json.infoHash).toMatch(/^[0-9a-f]{40}$/);
    expect(json.infoHashV2).toMatch(/^[0-9a-f]{64}$/);
    expect(json.files[0]).toEqual({ path: 'multi/a.bin', length: 40000, padding: false });
    expect(json.creationDate).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(json.magnet).toContain(`xt=urn:btih:${json.infoHash}`);
    expect(json.magnet).toContain(`xt=urn:btmh:1220${json.infoHashV2}`);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

describe('parseTorrent never throws anything but InputError (fast-check)', () => {
  const samples = [
    'v1-multi.torrent',
    'v2-multi.torrent',
    'hybrid-multi.torrent',
    'v2-single.torrent',
  ];

  function onlyInputError(bytes: Uint8Array): void {
    try {
      parseTorrent(bytes);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
    }
  }

  it('random byte mutations', () => {
    const mutation = fc.record({
      sample: fc.constantFrom(...samples),
      edits: fc.array(
        fc.record({
          kind: fc.constantFrom('set', 'insert', 'delete', 'truncate'),
          at: fc.nat(),
          byte: fc.constantFrom(0x30, 0x31, 0x39, 0x3a, 0x64, 0x65, 0x69, 0x6c, 0x2d, 0x00, 0xff),
        }),
        { minLength: 1, maxLength: 4 },
      ),
    });
    fc.assert(
      fc.property(mutation, ({ sample, edits }) => {
        let bytes = Array.from(fixture(sample));
        for (const { kind, at, byte } of edits) {
          const i = at % Math.max(1, bytes.length);
          if (kind === 'set') bytes[i] = byte;
          else if (kind === 'insert') bytes.splice(i, 0, byte);
          else if (kind === 'delete') bytes.splice(i, 1);
          else bytes = bytes.slice(0, i);
        }
        onlyInputError(Uint8Array.from(bytes));
      }),
      { numRuns: runs },
    );
  });

  // Decoded values of every shape, to put where the parser expects something specific.
  const anyValue = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
      fc.constantFrom(0, 1, 2, -1, 16384, 32768, 2 ** 52),
      fc.uint8Array({ maxLength: 64 }),
      fc.constantFrom(text(''), text('..'), text('a'), text('p'), new Uint8Array(32)),
      fc.array(tie('value'), { maxLength: 4 }),
      fc.dictionary(
        fc.constantFrom('', 'a', 'length', 'path', 'pieces root', 'attr'),
        tie('value'),
        {
          maxKeys: 4,
        },
      ),
    ),
  })).value;

  const fields: (string | number)[][] = [
    ['info', 'piece length'],
    ['info', 'pieces'],
    ['info', 'name'],
    ['info', 'name.utf-8'],
    ['info', 'length'],
    ['info', 'files'],
    ['info', 'files', 0],
    ['info', 'files', 0, 'length'],
    ['info', 'files', 0, 'path'],
    ['info', 'files', 0, 'path.utf-8'],
    ['info', 'files', 0, 'attr'],
    ['info', 'meta version'],
    ['info', 'file tree'],
    ['info', 'private'],
    ['info', 'source'],
    ['announce'],
    ['announce-list'],
    ['url-list'],
    ['creation date'],
    ['comment'],
    ['piece layers'],
    ['info'],
  ];

  it('random values in every field the parser reads', () => {
    const base = decodeBencode(fixture('v1-multi.torrent')).value as Record<string, unknown>;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...fields), anyValue), { minLength: 1, maxLength: 3 }),
        (changes) => {
          const torrent = structuredClone(base);
          for (const [path, value] of changes) {
            let target = torrent as Record<string | number, unknown>;
            for (const step of path.slice(0, -1)) {
              const next = target[step];
              if (typeof next !== 'object' || next === null || next instanceof Uint8Array) break;
              target = next as Record<string | number, unknown>;
            }
            const last = path.at(-1)!;
            // Setting `length` on an array would break the test, not the parser.
            if (Array.isArray(target) && typeof last === 'string') continue;
            target[last] = value;
          }
          onlyInputError(encodeBencode(torrent));
        },
      ),
      { numRuns: runs },
    );
  });
});

describe('error messages stay on one line', () => {
  it('control characters in file names do not reach the message', () => {
    const info = encodeBencode({
      'file tree': { ['evil\nname\r' + 'x'.repeat(200)]: { '': { length: 1 } } },
      'meta version': 2,
      name: new TextEncoder().encode('t'),
      'piece length': 16384,
    });
    let message = '';
    try {
      parseInfoDict(info);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^invalid torrent: file 'evil\?name\?x+\.\.\.' has no 32-byte/);
    expect(message.length).toBeLessThan(160);
  });
});
