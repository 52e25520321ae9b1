import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  collisionKey,
  disambiguatePaths,
  sanitizeComponent,
  sanitizeName,
  sanitizePath,
} from '../../../src/core/metainfo/index.ts';
import {
  sanitizeComponentFully,
  sanitizePathInPlace,
} from '../../../src/core/metainfo/sanitize-path.ts';
import { referenceDisambiguatePaths } from './disambiguate-reference.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 300);
const utf8Length = (text: string) => Buffer.byteLength(text, 'utf8');

describe('sanitizeComponent', () => {
  it.each([
    ['.', null],
    ['..', null],
    ['', null],
    ['\u0000', null],
    ['\u0001..', null],
    ['a/b', 'a_b'],
    ['a\\b', 'a_b'],
    ['nul\u0000in\u001fside\u007f', 'nulinside'],
    ['evil\u202Etxt.exe', 'eviltxt.exe'],
    ['CON', 'CON_'],
    ['con.txt', 'con_.txt'],
    ['LPT1.tar.gz', 'LPT1_.tar.gz'],
    ['COM1 .log', 'COM1_ .log'],
    ['CONSOLE', 'CONSOLE'],
    ['trailing. . ', 'trailing'],
    ['...', '_'],
    [' . ', '_'],
    ['Title: Part 1?.mkv', 'Title: Part 1?.mkv'],
    ['ok.txt', 'ok.txt'],
  ])('%j -> %j', (input, expected) => {
    expect(sanitizeComponent(input)).toBe(expected);
  });

  it('replaces Windows-forbidden characters when asked', () => {
    expect(sanitizeComponent('Title: Part 1?.mkv', { windows: true })).toBe('Title_ Part 1_.mkv');
  });

  it('caps components at 255 UTF-8 bytes without splitting characters', () => {
    const long = 'é'.repeat(200); // 400 bytes
    const out = sanitizeComponent(long)!;
    expect(utf8Length(out)).toBeLessThanOrEqual(255);
    expect(out).toBe('é'.repeat(127));
    const emoji = sanitizeComponent('😀'.repeat(100))!;
    expect(emoji).toBe('😀'.repeat(63));
  });

  it('answers as the full sanitizing does, shortcut for plain names or not', () => {
    // Printable ASCII, dots, spaces and device-name letters: where the shortcut decides.
    const ascii = fc.string({
      unit: fc.oneof(
        fc.integer({ min: 0x1f, max: 0x80 }).map((c) => String.fromCharCode(c)),
        fc.constantFrom('.', ' ', 'c', 'o', 'n', 'C', 'O', 'N', 'l', 'p', 't', '1', 'u', 'x'),
      ),
      maxLength: 12,
    });
    const long = fc.string({
      unit: fc.constantFrom('a', '.', ' '),
      minLength: 250,
      maxLength: 260,
    });
    const device = fc
      .tuple(
        fc.constantFrom(
          'con',
          'PRN',
          'aux',
          'Nul',
          'com1',
          'lpt9',
          'conin$',
          'CONOUT$',
          'co',
          'lpt',
        ),
        fc.constantFrom('', ' ', '.txt', ' .log', 'x', '1.a'),
      )
      .map(([stem, rest]) => stem + rest);
    fc.assert(
      fc.property(
        fc.oneof(ascii, long, device, fc.string({ unit: 'binary', maxLength: 12 })),
        fc.boolean(),
        (raw, windows) => {
          expect(sanitizeComponent(raw, { windows })).toBe(
            sanitizeComponentFully(raw, { windows }),
          );
        },
      ),
      { numRuns: runs * 10 },
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.boolean(), (raw, windows) => {
        const once = sanitizeComponent(raw, { windows });
        if (once !== null) expect(sanitizeComponent(once, { windows })).toBe(once);
      }),
      { numRuns: runs },
    );
  });
});

describe('sanitizePath / sanitizeName', () => {
  it('drops dot segments and absolute prefixes, never returns nothing', () => {
    expect(sanitizePath(['..', '..', 'etc', 'passwd'])).toEqual(['etc', 'passwd']);
    expect(sanitizePath(['', '/', '.', '..'])).toEqual(['_']);
    expect(sanitizePath([])).toEqual(['_']);
  });

  it('falls back to the info-hash for an empty name', () => {
    expect(sanitizeName('..', 'abc123')).toBe('abc123');
    expect(sanitizeName('ok', 'abc123')).toBe('ok');
    // shoal's state directory is not a name a torrent can take, in any case.
    expect(sanitizeName('.shoal', 'abc123')).toBe('.shoal (1)');
    expect(sanitizeName('.SHOAL', 'abc123')).toBe('.SHOAL (1)');
    expect(sanitizeName('.shoal (1)', 'abc123')).toBe('.shoal (1)');
    expect(sanitizeName('.shoals', 'abc123')).toBe('.shoals');
  });
});

describe('disambiguatePaths', () => {
  /** Lists of paths under `t` made of `name`s are laid out as the plain tree walk lays them out. */
  function agreesWithReference(
    name: fc.Arbitrary<string>,
    size: { maxDepth: number; minLength?: number; maxLength: number },
    numRuns: number,
  ): void {
    const paths = fc.array(
      fc.array(name, { minLength: 1, maxLength: size.maxDepth }).map((parts) => ['t', ...parts]),
      { minLength: size.minLength, maxLength: size.maxLength },
    );
    fc.assert(
      fc.property(paths, (list) => {
        expect(disambiguatePaths(list)).toEqual(referenceDisambiguatePaths(list));
      }),
      { numRuns },
    );
  }

  it('renames duplicates before the extension, comparing names case-insensitively', () => {
    expect(
      disambiguatePaths([
        ['t', 'a.txt'],
        ['t', 'A.txt'],
        ['t', 'a.txt'],
        ['t', 'a.txt'],
        ['t', 'a (1).txt'],
        ['t', '.hidden'],
        ['t', '.hidden'],
        ['t', 'b.txt'],
      ]),
    ).toEqual([
      ['t', 'a.txt'],
      ['t', 'A (1).txt'],
      ['t', 'a (2).txt'],
      ['t', 'a (3).txt'],
      ['t', 'a (1) (1).txt'],
      ['t', '.hidden'],
      ['t', '.hidden (1)'],
      ['t', 'b.txt'],
    ]);
  });

  it('treats NFC and NFD spellings of a name as one, and keeps each spelling when alone', () => {
    const nfc = 'caf\u00e9';
    const nfd = 'cafe\u0301';
    expect(
      disambiguatePaths([
        ['t', nfd],
        ['t', nfc],
        ['t', 'x', nfd],
      ]),
    ).toEqual([
      ['t', nfd],
      ['t', `${nfc} (1)`],
      ['t', 'x', nfd],
    ]);
    // Greek final sigma and German sharp s fold the way Windows and macOS may fold them.
    expect(collisionKey('ΣΑΣ')).toBe(collisionKey('σας'));
    expect(collisionKey('Straße')).toBe(collisionKey('STRASSE'));
  });

  it('lays out any list of paths as the plain tree walk does (the reference)', () => {
    // Few names, in two cases, with counters already in some: collisions of every kind.
    const name = fc.constantFrom('a', 'A', 'b', 'a.txt', 'A.TXT', 'a (1).txt', 'x (1)', 'x');
    agreesWithReference(name, { maxDepth: 3, maxLength: 25 }, runs * 10);
  });

  it('lays out names beyond ASCII as the reference does, folding them by their collision keys', () => {
    // Pairs that collide only after NFC or the full case mapping (Kelvin sign and k, sharp s
    // and SS, final sigma), a name whose key is ASCII though it is not, and plain ones.
    const name = fc.constantFrom(
      'caf\u00e9',
      'cafe\u0301',
      'CAF\u00c9',
      '\u212a',
      'k',
      'K',
      'stra\u00dfe',
      'STRASSE',
      '\u03c3\u03b1\u03c2',
      '\u03a3\u0391\u03a3',
      'k (1)',
      'x',
    );
    agreesWithReference(name, { maxDepth: 3, maxLength: 25 }, runs * 10);
  });

  it('agrees with the reference on thousands of names in many directories', () => {
    // Enough names that its table grows several times while paths are still being added.
    const name = fc.oneof(
      fc.integer({ min: 0, max: 400 }).map((n) => `f${n}.bin`),
      fc.integer({ min: 0, max: 400 }).map((n) => `F${n}.BIN`),
      fc.integer({ min: 0, max: 60 }).map((n) => `d${n}`),
      fc.constantFrom('D1', 'd1 (1)', '\u212a', 'k'),
    );
    agreesWithReference(name, { maxDepth: 4, minLength: 2000, maxLength: 6000 }, 5);
  });

  it('puts files of directories equal up to case in one directory without clashes', () => {
    expect(
      disambiguatePaths([
        ['t', 'Dir', 'a'],
        ['t', 'DIR', 'A'],
        ['t', 'dir'],
        ['t', 'DiR', 'b'],
      ]),
    ).toEqual([
      ['t', 'Dir', 'a'],
      ['t', 'DIR', 'A (1)'],
      ['t', 'dir (1)'],
      ['t', 'DiR', 'b'],
    ]);
  });

  it('keeps a file and a directory of the same name apart, whichever comes first', () => {
    expect(
      disambiguatePaths([
        ['t', 'x'],
        ['t', 'x', 'inner'],
        ['t', 'x', 'other'],
      ]),
    ).toEqual([
      ['t', 'x'],
      ['t', 'x (1)', 'inner'],
      ['t', 'x (1)', 'other'],
    ]);
    expect(
      disambiguatePaths([
        ['t', 'x', 'inner'],
        ['t', 'x'],
      ]),
    ).toEqual([
      ['t', 'x', 'inner'],
      ['t', 'x (1)'],
    ]);
  });

  it('returns a path that keeps its name as the same array, and never changes its input', () => {
    const kept = ['t', 'a'];
    const clash = ['t', 'A'];
    const out = disambiguatePaths([kept, clash]);
    expect(out[0]).toBe(kept);
    expect(out[1]).not.toBe(clash);
    expect(out[1]).toEqual(['t', 'A (1)']);
    expect(clash).toEqual(['t', 'A']);
  });

  it('folds ASCII names (its fast path) exactly as the full Unicode mapping does', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)) }),
        (name) => {
          expect(collisionKey(name)).toBe(name.normalize('NFC').toUpperCase().toLowerCase());
        },
      ),
    );
  });

  it('stays fast when thousands of files share a name', () => {
    const same = Array.from({ length: 20_000 }, () => ['t', 'same.bin']);
    const out = disambiguatePaths(same);
    expect(new Set(out.map((p) => p.join('/'))).size).toBe(20_000);
    expect(out.at(-1)).toEqual(['t', 'same (19999).bin']);
  });
});

describe('sanitizePathInPlace', () => {
  // parse.ts lays a multi-file torrent's paths out with it, in the raw components' own array.
  const component = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom('.', '..', '', '/', '\\', 'a', 'CON', 'x ', 'C:', 'a/b', '\u202e'),
  );
  it('gives what sanitizePath gives with the name in front, in the array it was given', () => {
    fc.assert(
      fc.property(fc.array(component, { maxLength: 8 }), fc.boolean(), (raw, windows) => {
        // One slot of spare capacity, as the v1 list reader leaves it, and none.
        const roomy = new Array<string>(raw.length + 1);
        raw.forEach((part, i) => (roomy[i] = part));
        roomy.length = raw.length;
        for (const given of [roomy, [...raw]]) {
          const laidOut = sanitizePathInPlace(given, { windows }, 'name');
          expect(laidOut).toBe(given);
          expect(laidOut).toEqual(sanitizePath(raw, { windows }, 'name'));
        }
      }),
      { numRuns: runs },
    );
  });
});

describe('invariant: any components stay inside the output directory, one path per file', () => {
  const component = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(
      '.',
      '..',
      '',
      '/',
      '\\',
      'a',
      'A',
      'a.txt',
      'CON',
      'x ',
      'C:',
      '..\\..',
      '/etc',
    ),
    fc.string({ unit: 'binary', minLength: 250, maxLength: 300 }),
  );
  const files = fc.array(fc.array(component, { maxLength: 5 }), { minLength: 1, maxLength: 30 });

  for (const [label, api, windows] of [
    ['posix', path.posix, false],
    ['win32', path.win32, true],
  ] as const) {
    it(label, () => {
      const outDir = label === 'posix' ? '/srv/out' : 'D:\\srv\\out';
      fc.assert(
        fc.property(files, fc.boolean(), (raw, withName) => {
          const sanitized = raw.map((components) => {
            const clean = sanitizePath(components, { windows });
            return withName ? ['name', ...clean] : clean;
          });
          const unique = disambiguatePaths(sanitized);
          const resolved = unique.map((components) => api.resolve(outDir, ...components));
          for (const full of resolved) {
            const relative = api.relative(outDir, full);
            expect(relative).not.toBe('');
            expect(relative === '..' || relative.startsWith('..' + api.sep)).toBe(false);
            expect(api.isAbsolute(relative)).toBe(false);
          }
          for (const components of unique) {
            for (const part of components) expect(utf8Length(part)).toBeLessThanOrEqual(255);
          }
          // No two files share a path, and no file is a directory of another, even where
          // the file system ignores case and Unicode normalisation.
          const keys = resolved.map(collisionKey);
          expect(new Set(keys).size).toBe(keys.length);
          for (const a of keys) {
            for (const b of keys) {
              if (a !== b) expect(b.startsWith(a + api.sep)).toBe(false);
            }
          }
        }),
        { numRuns: runs },
      );
    });
  }
});
