/**
 * Differential properties of the v1 `files` list reader that works on the
 * scanned bytes (files-v1-list.ts) against the decoded-object reader it
 * replaces on the fast path (`parseV1FileEntries`, files-v1.ts), which stays
 * the reference and the path for torrents with non-ASCII keys. See
 * test/helpers/fuzz.ts for FUZZ_RUNS / FUZZ_SEED.
 *
 * Inputs: file lists made of valid entries, entries with every field wrong in
 * the ways the readers check (negative or missing lengths, paths that are
 * empty, not lists, or hold a non-string; attributes `p` and `l`, symlink
 * targets, invalid UTF-8 names, BitComet padding names, unknown keys), lists
 * that are not lists, all with random edits on top, and random bytes.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeBencode,
  defaultBencodeLimits,
  encodeBencode,
  isDict,
  scanBencode,
} from '../../../src/core/bencode/index.ts';
import { InputError } from '../../../src/core/errors.ts';
import { MAX_FILES } from '../../../src/core/metainfo/file-entry.ts';
import { readV1FileList } from '../../../src/core/metainfo/files-v1-list.ts';
import { parseV1FileEntries } from '../../../src/core/metainfo/files-v1.ts';
import { parseTorrent } from '../../../src/core/metainfo/parse.ts';
import { fuzzIt, mutatedFrom } from '../../helpers/fuzz.ts';

const utf8 = (text: string) => Buffer.from(text, 'utf8');

const arbComponent: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom('a', 'b.txt', 'a', '', '.', '..', 'CON', 'x ', '_____padding_file_1').map(utf8),
  fc.constantFrom('é', 'ü.txt', '日本').map(utf8),
  // Random bytes: invalid UTF-8 (0xff, lone continuation bytes) among them.
  fc.uint8Array({ maxLength: 4 }),
);
const arbPath = fc.array(arbComponent, { maxLength: 3 });
const arbJunk: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: -3, max: 70_000 }),
  fc.constant(2 ** 53 - 1),
  fc.constant(-(2 ** 53 - 1)),
  arbComponent,
  fc.constant([utf8('a'), 7]),
  fc.constant({ a: 1 }),
);

const arbEntry: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      length: fc.integer({ min: 0, max: 40_000 }),
      path: fc.array(arbComponent, { minLength: 1, maxLength: 3 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        length: fc.oneof(fc.integer({ min: 0, max: 70_000 }), arbJunk),
        path: fc.oneof({ weight: 4, arbitrary: arbPath }, { weight: 1, arbitrary: arbJunk }),
        'path.utf-8': fc.oneof(arbPath, arbJunk),
        attr: fc.oneof(fc.constantFrom('', 'p', 'l', 'x', 'lp', 'hx').map(utf8), arbJunk),
        'symlink path': fc.oneof(arbPath, arbJunk),
        zz: arbJunk,
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: arbJunk },
);

const arbList: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: fc.array(arbEntry, { maxLength: 5 }) },
  { weight: 1, arbitrary: arbJunk },
);

/** A v1 torrent around the list, with a hash per piece of what its entries' lengths add up to. */
function torrentWith(files: unknown): Uint8Array {
  let total = 0;
  if (Array.isArray(files)) {
    for (const entry of files) {
      const length = (entry as { length?: unknown } | null)?.length;
      if (typeof length === 'number' && length > 0 && length <= 70_000) total += length;
    }
  }
  const pieces = Buffer.alloc(20 * Math.max(1, Math.ceil(total / 16384)));
  return encodeBencode({
    announce: 'http://127.0.0.1:1/a',
    info: { files, name: 't', 'piece length': 16384, pieces },
  });
}

type Outcome = { files: unknown } | { error: string };

function outcome(read: () => unknown): Outcome {
  try {
    return { files: read() };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { error: error.message };
  }
}

/** The same torrent with a non-ASCII top-level key first: parsing then decodes the list. */
function withNonAsciiKey(bytes: Uint8Array): Uint8Array {
  const key = Uint8Array.from([0x32, 0x3a, 0xff, 0xfe, 0x69, 0x30, 0x65]); // 2:\xff\xfe i0e
  return Uint8Array.from([bytes[0]!, ...key, ...bytes.subarray(1)]);
}

/** Byte offsets in a message move with the inserted key. */
function withoutOffsets(message: string): string {
  return message.replace(/byte \d+/g, 'byte N');
}

describe('v1 file list read from the bytes', () => {
  fuzzIt(
    'agrees with the decoded-object reader on every list: the same files, or the same refusal',
    fc.property(mutatedFrom(arbList.map(torrentWith), 200), (bytes) => {
      let scan;
      try {
        scan = scanBencode(bytes, defaultBencodeLimits, 0, 'info');
      } catch {
        return; // not bencode: neither reader is reached
      }
      const range = scan.nestedRanges.get('files');
      // The fast reader runs only when every key is ASCII (fields.ts decodeOrFail).
      if (range === undefined || !scan.asciiKeys) return;
      const { value } = decodeBencode(bytes, { allowTrailing: true });
      if (!isDict(value) || !isDict(value.info)) return;
      const files = value.info.files!;
      expect(outcome(() => readV1FileList(bytes, range[0], true))).toEqual(
        outcome(() => parseV1FileEntries(files)),
      );
    }),
  );

  fuzzIt(
    'parseTorrent accepts and refuses the same torrents, and parses them the same, on either path',
    fc.property(mutatedFrom(arbList.map(torrentWith), 200), (bytes) => {
      if (bytes[0] !== 0x64) return;
      const fast = outcome(() => parseTorrent(bytes));
      const decoded = outcome(() => parseTorrent(withNonAsciiKey(bytes)));
      if ('error' in fast && 'error' in decoded) {
        expect(withoutOffsets(fast.error)).toBe(withoutOffsets(decoded.error));
      } else expect(fast).toEqual(decoded);
    }),
  );

  it('refuses a list over the file limit as the decoded reader does, even when an entry is bad', () => {
    // MAX_FILES + 1 entries that are not dictionaries: the limit is reported, not entry 0.
    const list = `l${'i0e'.repeat(MAX_FILES + 1)}e`;
    const bytes = Buffer.from(`d5:files${list}e`, 'latin1');
    const { value } = decodeBencode(bytes);
    const reference = outcome(() => parseV1FileEntries(isDict(value) ? value.files! : value));
    expect(reference).toEqual({ error: `invalid torrent: more than ${MAX_FILES} files` });
    expect(outcome(() => readV1FileList(bytes, 8, false))).toEqual(reference);
    const within = Buffer.from(`d5:filesl${'i0e'.repeat(3)}ee`, 'latin1');
    expect(outcome(() => readV1FileList(within, 8, false))).toEqual({
      error: 'invalid torrent: file 0 is not a dictionary',
    });
  });

  it('names every directory by its own bytes when thousands of names of one length share the reuse table', () => {
    // 20 000 directory names of 6 bytes, far more than the reader's table of reused names has
    // slots, each used by two files far apart (as the directories of a big torrent repeat),
    // and two levels deep: the same names as the decoded reader, file by file.
    const names = Array.from({ length: 20_000 }, (_, i) => `d${String(i).padStart(5, '0')}`);
    const files = [...names, ...names.toReversed()].map((dir, i) => ({
      length: 1,
      path: [dir, names[(i * 7919) % names.length], `f${i}`].map(utf8),
    }));
    const bytes = torrentWith(files);
    const scan = scanBencode(bytes, defaultBencodeLimits, 0, 'info');
    const read = readV1FileList(bytes, scan.nestedRanges.get('files')![0], false).files;
    const wrong = files.findIndex((file, i) => read[i]?.path.join('/') !== file.path.join('/'));
    expect(read.length).toBe(files.length);
    expect(wrong === -1 ? null : read[wrong]?.path).toBe(null);
  });
});
