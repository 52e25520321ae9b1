/**
 * Guarded bencode: every decode from a file or the network goes through
 * `decodeBencode`, which scans the bytes strictly (scan.ts) before building
 * values from them (decode.ts). Encoding uses the `bencode` package.
 */
import bencode from 'bencode';
import { decodeScanned } from './decode.ts';
import {
  BencodeError,
  scanBencode,
  defaultBencodeLimits,
  type BencodeLimits,
  type ScanResult,
} from './scan.ts';

export {
  BencodeError,
  scanBencode,
  defaultBencodeLimits,
  type BencodeLimits,
  type ScanResult,
} from './scan.ts';

/**
 * A decoded value: byte strings stay bytes (views into one copy of the input, or of the input
 * itself with `views`);
 * dictionary keys are strings (hex if not valid UTF-8).
 */
export type BencodeValue = number | Uint8Array | BencodeValue[] | BencodeDict;
export interface BencodeDict {
  [key: string]: BencodeValue;
}

export interface Decoded {
  value: BencodeValue;
  /** Offset just past the decoded value. */
  end: number;
  /** For a top-level dictionary, the [start, end) byte range of each value by key (latin1). */
  topLevelRanges: Map<string, [number, number]>;
  /** The same for the dictionary under the top-level key `nestedKey` (see ScanResult). */
  nestedRanges: Map<string, [number, number]>;
  /** The range `skip` chose, left out of `value`; null when none was. */
  skipped: [number, number] | null;
}

export interface DecodeOptions {
  limits?: BencodeLimits;
  /** Accept bytes after the value (ut_metadata carries raw data there). Default false. */
  allowTrailing?: boolean;
  /**
   * Byte strings are views of `bytes` itself instead of a copy (faster, less memory): only for
   * callers that own `bytes`, never change it, and copy what they keep. Default false.
   */
  views?: boolean;
  /** Also record the ranges inside the dictionary under this top-level key (`nestedRanges`). */
  nestedKey?: string;
  /**
   * Chooses, once the bytes are scanned, one value not to build (its key is left out of its
   * dictionary too; never the whole value): the caller reads it from the bytes itself.
   */
  skip?: (scan: ScanResult) => [number, number] | null;
}

/** Decodes one bencoded value; throws BencodeError on anything malformed or over the limits. */
export function decodeBencode(bytes: Uint8Array, options: DecodeOptions = {}): Decoded {
  const scan = scanBencode(bytes, options.limits ?? defaultBencodeLimits, 0, options.nestedKey);
  if (!options.allowTrailing && scan.end !== bytes.length) {
    throw new BencodeError('trailing data after the bencoded value', scan.end);
  }
  const skipped = options.skip?.(scan) ?? null;
  const value = decodeScanned(bytes, scan.end, {
    views: options.views,
    skip: skipped ?? undefined,
  });
  return {
    value,
    end: scan.end,
    topLevelRanges: scan.topLevelRanges,
    nestedRanges: scan.nestedRanges,
    skipped,
  };
}

/** Encodes a value; dictionary keys are sorted by the encoder as BEP 3 requires. */
export function encodeBencode(value: unknown): Uint8Array {
  return bencode.encode(value);
}

export function isDict(value: BencodeValue | undefined): value is BencodeDict {
  return (
    typeof value === 'object' &&
    value !== null &&
    !(value instanceof Uint8Array) &&
    !Array.isArray(value)
  );
}

export function isBytes(value: BencodeValue | undefined): value is Uint8Array {
  return value instanceof Uint8Array;
}
