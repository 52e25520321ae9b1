/**
 * A strict, non-recursive structural check of bencoded bytes.
 *
 * The `bencode` package decodes recursively, trusts length prefixes and
 * parses malformed integers leniently, so nothing from a file or the network
 * reaches it before this scan has proved the bytes are one well-formed value
 * within the limits below. The scan also records where the top-level
 * dictionary's values start and end, so info-hashes can be computed over the
 * original bytes of the `info` dictionary rather than over a re-encoding.
 */

export interface BencodeLimits {
  /** Deepest nesting of lists and dictionaries allowed. */
  maxDepth: number;
  /** Most tokens (integers, strings, list/dict openings) allowed. */
  maxTokens: number;
  /**
   * Values that become objects when decoded (strings, lists, dictionaries;
   * not keys or integers) allowed whatever the size: see `valuesAllowed`.
   */
  freeValues?: number;
  /** Beyond `freeValues`, one such value allowed per this many bytes of input. */
  bytesPerValue?: number;
}

export const defaultBencodeLimits: BencodeLimits = { maxDepth: 64, maxTokens: 4_000_000 };

/**
 * Each decoded string, list or dictionary costs a JavaScript object (about
 * 50 to 150 bytes) however few bytes encode it: `0:` is two bytes. Millions
 * of them in a few megabytes would cost a gigabyte, so the number allowed
 * grows with the input: 256 Ki free, then one per 8 bytes. Real torrents
 * spend 10 or more bytes per value (a 1-byte file name in a file list
 * costs 8); this keeps decoding within a small multiple of the input.
 */
export const DEFAULT_FREE_VALUES = 256 * 1024;
export const DEFAULT_BYTES_PER_VALUE = 8;

/** How many strings, lists and dictionaries `length` bytes may decode into. */
export function valuesAllowed(length: number, limits: BencodeLimits): number {
  const free = limits.freeValues ?? DEFAULT_FREE_VALUES;
  return free + Math.floor(length / (limits.bytesPerValue ?? DEFAULT_BYTES_PER_VALUE));
}

export class BencodeError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'BencodeError';
    this.offset = offset;
  }
}

export interface ScanResult {
  /** Offset just past the end of the first complete value. */
  end: number;
  /** For a top-level dictionary: each key (latin1) -> [start, end) byte range of its value. */
  topLevelRanges: Map<string, [number, number]>;
  /**
   * The same for the dictionary that is the value of the top-level key `nestedKey` (the
   * `info` of a .torrent); empty when not asked for or when that value is not a dictionary.
   */
  nestedRanges: Map<string, [number, number]>;
  /**
   * Every dictionary key is plain ASCII, so each decodes to text equal to its bytes and no two
   * decode to the same text: a reader of the raw bytes then sees the keys the decoder sees.
   */
  asciiKeys: boolean;
}

/** The bytes bencode is made of (decode.ts reads the same ones). */
export const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
export const MINUS = 0x2d;
export const COLON = 0x3a;
export const LETTER_I = 0x69;
export const LETTER_L = 0x6c;
export const LETTER_D = 0x64;
export const LETTER_E = 0x65;

/** Nothing re-read by `keysBefore` is over a limit: the scan that reached it has counted it. */
const UNLIMITED: BencodeLimits = { maxDepth: Infinity, maxTokens: Infinity, freeValues: Infinity };

/**
 * Scans one bencoded value starting at `start`. Throws BencodeError on any
 * malformation. Bytes after the value are left alone (the caller decides
 * whether trailing data is acceptable: ut_metadata messages carry raw data
 * after the dictionary).
 */
export function scanBencode(
  bytes: Uint8Array,
  limits: BencodeLimits = defaultBencodeLimits,
  start = 0,
  nestedKey: string | null = null,
): ScanResult {
  return new Scan(bytes, limits, start, nestedKey).run();
}

/**
 * One scan's state. The open lists and dictionaries are parallel arrays of numbers (a stack
 * level is an index), not an object per level: a 400 000-file torrent opens 1.2 million of
 * them, and each object was garbage the collector had to make room for. The state is in
 * fields, not in locals that closures share (V8 keeps those in a heap context).
 */
class Scan {
  private readonly bytes: Uint8Array;
  private readonly limits: BencodeLimits;
  private readonly nestedKey: string | null;
  private readonly start: number;
  private pos: number;
  /** Per open level, innermost last: 1 for a dictionary, 0 for a list. */
  private readonly isDict: number[] = [];
  /** For dictionaries: 1 when the next item must be a key. */
  private readonly expectKey: number[] = [];
  /** Offset of the `d`: where to re-read the keys if they stop arriving in order. */
  private readonly opened: number[] = [];
  /**
   * The previous key's bytes [lastKeyStart, lastKeyEnd), -1 before the first key. While keys
   * arrive in strictly increasing byte order (canonical bencode, nearly every real dictionary)
   * none can repeat, and comparing with the previous one is the whole duplicate check.
   */
  private readonly lastKeyStart: number[] = [];
  private readonly lastKeyEnd: number[] = [];
  /** Every key so far (latin1): made only once a key arrives out of order. */
  private readonly keySets: (Set<string> | null)[] = [];
  private readonly topLevelRanges = new Map<string, [number, number]>();
  private readonly nestedRanges = new Map<string, [number, number]>();
  private asciiKeys = true;
  /** True while the scan is inside the dictionary under `nestedKey` (at depth 2). */
  private inNested = false;
  private pendingNestedKey: string | null = null;
  private pendingNestedStart = 0;
  private pendingTopKey: string | null = null;
  private pendingTopStart = 0;
  private values = 0;
  private readonly maxValues: number;

  constructor(bytes: Uint8Array, limits: BencodeLimits, start: number, nestedKey: string | null) {
    this.bytes = bytes;
    this.limits = limits;
    this.start = start;
    this.pos = start;
    this.nestedKey = nestedKey;
    this.maxValues = valuesAllowed(bytes.length - start, limits);
  }

  run(): ScanResult {
    const { bytes, limits, isDict, expectKey } = this;
    let tokens = 0;
    do {
      const pos = this.pos;
      if (pos >= bytes.length) throw new BencodeError('unexpected end of data', pos);
      if (++tokens > limits.maxTokens) {
        throw new BencodeError(`more than ${limits.maxTokens} tokens`, pos);
      }
      const depth = isDict.length;
      const top = depth - 1;
      const byte = bytes[pos];
      const inDict = depth > 0 && isDict[top] === 1;
      const isKey = inDict && expectKey[top] === 1;

      if (byte === LETTER_E) {
        if (depth === 0) throw new BencodeError('unexpected end marker', pos);
        if (inDict && !isKey) throw new BencodeError('dictionary key without a value', pos);
        this.pos = pos + 1;
        this.pop();
        if (depth === 2) this.inNested = false;
        this.finishValue();
        continue;
      }

      if (isKey && !(byte >= DIGIT_0 && byte <= DIGIT_9)) {
        throw new BencodeError('dictionary key is not a string', pos);
      }
      if (depth === 1 && inDict && !isKey) {
        this.pendingTopStart = pos;
        if (byte === LETTER_D && this.pendingTopKey === this.nestedKey) this.inNested = true;
      }
      if (this.inNested && depth === 2 && expectKey[top] !== 1) this.pendingNestedStart = pos;

      if (byte === LETTER_D || byte === LETTER_L) {
        if (depth >= limits.maxDepth) {
          throw new BencodeError(`nesting deeper than ${limits.maxDepth}`, pos);
        }
        this.countValue();
        isDict.push(byte === LETTER_D ? 1 : 0);
        expectKey.push(1);
        this.opened.push(pos);
        this.lastKeyStart.push(-1);
        this.lastKeyEnd.push(-1);
        this.keySets.push(null);
        this.pos = pos + 1;
        continue;
      }

      if (byte === LETTER_I) {
        this.pos = scanInteger(bytes, pos + 1);
        this.finishValue();
        continue;
      }

      if (byte >= DIGIT_0 && byte <= DIGIT_9) {
        const dataStart = scanString(bytes, pos);
        const dataEnd = scannedEnd;
        if (isKey) this.key(top, dataStart, dataEnd, pos);
        else this.countValue();
        this.pos = dataEnd;
        this.finishValue();
        continue;
      }

      throw new BencodeError(`unexpected byte 0x${byte.toString(16).padStart(2, '0')}`, pos);
    } while (isDict.length > 0);

    const { topLevelRanges, nestedRanges, asciiKeys } = this;
    return { end: this.pos, topLevelRanges, nestedRanges, asciiKeys };
  }

  private pop(): void {
    this.isDict.pop();
    this.expectKey.pop();
    this.opened.pop();
    this.lastKeyStart.pop();
    this.lastKeyEnd.pop();
    this.keySets.pop();
  }

  private countValue(): void {
    if (++this.values > this.maxValues) {
      throw new BencodeError(
        `too many values for its size (more than ${this.maxValues} strings, lists and dictionaries in ${this.bytes.length - this.start} bytes)`,
        this.pos,
      );
    }
  }

  /** Called after a complete value ends at `pos`; flips key/value expectation of the parent. */
  private finishValue(): void {
    const depth = this.isDict.length;
    const top = depth - 1;
    if (depth === 0 || this.isDict[top] !== 1) return;
    const expectKey = 1 - this.expectKey[top];
    this.expectKey[top] = expectKey;
    if (expectKey !== 1) return;
    if (depth === 1 && this.pendingTopKey !== null) {
      this.topLevelRanges.set(this.pendingTopKey, [this.pendingTopStart, this.pos]);
      this.pendingTopKey = null;
    }
    if (this.inNested && depth === 2 && this.pendingNestedKey !== null) {
      this.nestedRanges.set(this.pendingNestedKey, [this.pendingNestedStart, this.pos]);
      this.pendingNestedKey = null;
    }
  }

  /** A key [dataStart, dataEnd) of the dictionary at level `top`, whose string starts at `pos`. */
  private key(top: number, dataStart: number, dataEnd: number, pos: number): void {
    const { bytes } = this;
    this.checkKey(top, dataStart, dataEnd, pos);
    if (this.asciiKeys && !isAscii(bytes, dataStart, dataEnd)) this.asciiKeys = false;
    if (top === 0) this.pendingTopKey = latin1(bytes, dataStart, dataEnd);
    else if (this.inNested && top === 1) this.pendingNestedKey = latin1(bytes, dataStart, dataEnd);
  }

  /** Refuses `__proto__` and a key seen before in this dictionary (the key string starts at `pos`). */
  private checkKey(top: number, dataStart: number, dataEnd: number, pos: number): void {
    const { bytes } = this;
    if (dataEnd - dataStart === PROTO.length && isProto(bytes, dataStart))
      throw new BencodeError('forbidden dictionary key', pos);
    let keys = this.keySets[top];
    if (keys === null) {
      const lastKeyEnd = this.lastKeyEnd[top];
      const order =
        lastKeyEnd < 0
          ? 1
          : compareBytes(bytes, dataStart, dataEnd, this.lastKeyStart[top], lastKeyEnd);
      if (order > 0) {
        this.lastKeyStart[top] = dataStart;
        this.lastKeyEnd[top] = dataEnd;
        return;
      }
      // Out of order (or a repeat): from here on this dictionary keeps a set of its keys.
      keys = keysBefore(bytes, this.opened[top], pos);
      this.keySets[top] = keys;
    }
    const key = latin1(bytes, dataStart, dataEnd);
    if (keys.has(key)) throw new BencodeError(`duplicate dictionary key "${printable(key)}"`, pos);
    keys.add(key);
  }
}

function isAscii(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] > 0x7f) return false;
  return true;
}

const PROTO = [...'__proto__'].map((char) => char.charCodeAt(0));

function isProto(bytes: Uint8Array, start: number): boolean {
  for (let i = 0; i < PROTO.length; i++) if (bytes[start + i] !== PROTO[i]) return false;
  return true;
}

/** Sign of the comparison of bytes [aStart, aEnd) with [bStart, bEnd), as memcmp then length. */
function compareBytes(
  bytes: Uint8Array,
  aStart: number,
  aEnd: number,
  bStart: number,
  bEnd: number,
): number {
  const common = Math.min(aEnd - aStart, bEnd - bStart);
  for (let i = 0; i < common; i++) {
    const diff = bytes[aStart + i] - bytes[bStart + i];
    if (diff !== 0) return diff;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/** The keys (latin1) of the dictionary opened at `start`, read up to `until`, already scanned. */
function keysBefore(bytes: Uint8Array, start: number, until: number): Set<string> {
  const keys = new Set<string>();
  let pos = start + 1;
  while (pos < until) {
    const dataStart = scanString(bytes, pos);
    const dataEnd = scannedEnd;
    keys.add(latin1(bytes, dataStart, dataEnd));
    pos = scanBencode(bytes, UNLIMITED, dataEnd).end;
  }
  return keys;
}

/** Validates `i<digits>e` (canonical: no leading zeros, no -0, safe integer); returns the offset after `e`. */
function scanInteger(bytes: Uint8Array, from: number): number {
  let pos = from;
  const negative = bytes[pos] === MINUS;
  if (negative) pos++;
  const digitsStart = pos;
  while (pos < bytes.length && bytes[pos] >= DIGIT_0 && bytes[pos] <= DIGIT_9) pos++;
  const digits = pos - digitsStart;
  if (pos >= bytes.length) throw new BencodeError('unterminated integer', from);
  if (bytes[pos] !== LETTER_E || digits === 0) throw new BencodeError('malformed integer', from);
  if (digits > 1 && bytes[digitsStart] === DIGIT_0)
    throw new BencodeError('integer with leading zero', from);
  if (negative && digits === 1 && bytes[digitsStart] === DIGIT_0)
    throw new BencodeError('negative zero', from);
  // Up to 15 digits is always below 2^53: only longer ones need reading to be judged.
  const safe =
    digits <= 15 ||
    (digits === 16 && Number.isSafeInteger(Number(latin1(bytes, digitsStart, pos))));
  if (!safe) {
    throw new BencodeError('integer out of range', from);
  }
  return pos + 1;
}

/**
 * Where the data of the last string `scanString` validated ends: set beside its answer rather
 * than returned in an object, which was garbage for every string of the input.
 */
let scannedEnd = 0;

/** Validates `<length>:<bytes>` against the bytes that remain; returns where its data starts. */
function scanString(bytes: Uint8Array, from: number): number {
  let pos = from;
  let length = 0;
  while (pos < bytes.length && bytes[pos] >= DIGIT_0 && bytes[pos] <= DIGIT_9) {
    length = length * 10 + (bytes[pos] - DIGIT_0);
    pos++;
    if (pos - from > 12) throw new BencodeError('string length prefix too long', from);
  }
  if (pos >= bytes.length || bytes[pos] !== COLON)
    throw new BencodeError('malformed string length', from);
  if (pos - from > 1 && bytes[from] === DIGIT_0)
    throw new BencodeError('string length with leading zero', from);
  const dataStart = pos + 1;
  const dataEnd = dataStart + length;
  if (dataEnd > bytes.length) {
    throw new BencodeError(`string of ${length} bytes runs past the end of the data`, from);
  }
  scannedEnd = dataEnd;
  return dataStart;
}

function latin1(bytes: Uint8Array, start: number, end: number): string {
  // Keys and integers are short: a Buffer per call cost more than reading the bytes.
  if (end - start <= 64)
    return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}
