/**
 * What the guarded decoder must accept, written as plainly as possible: a
 * recursive reading of the rules in src/core/bencode/scan.ts and decode.ts,
 * sharing no code with them, used by the differential fuzz test as the
 * oracle for accept/refuse. For an accepted input it gives the top-level
 * dictionary's value ranges (latin1 key -> [start, end)); for a refused one,
 * why, when the first problem in byte order is a repeated key.
 */
export interface SpecLimits {
  maxDepth: number;
  maxTokens: number;
  freeValues: number;
  bytesPerValue: number;
}

export const SPEC_DEFAULTS: SpecLimits = {
  maxDepth: 64,
  maxTokens: 4_000_000,
  freeValues: 256 * 1024,
  bytesPerValue: 8,
};

export type SpecResult =
  | { accepted: true; ranges: Map<string, [number, number]> }
  | { accepted: false; reason: 'repeated key' | 'other' };

class Refused extends Error {
  readonly reason: 'repeated key' | 'other';
  constructor(reason: 'repeated key' | 'other' = 'other') {
    super(reason);
    this.reason = reason;
  }
}

const isDigit = (byte: number | undefined) => byte !== undefined && byte >= 0x30 && byte <= 0x39;

/** A key as decoded text: UTF-8 (a leading BOM dropped, as TextDecoder does), else hex. */
function keyText(key: Uint8Array): string {
  const text = new TextDecoder().decode(key);
  return text.includes('\uFFFD') ? Buffer.from(key).toString('hex') : text;
}

export function specAccepts(
  bytes: Uint8Array,
  limits: SpecLimits = SPEC_DEFAULTS,
  allowTrailing = false,
): SpecResult {
  let pos = 0;
  let tokens = 0;
  let values = 0;
  const maxValues = limits.freeValues + Math.floor(bytes.length / limits.bytesPerValue);
  const ranges = new Map<string, [number, number]>();
  const token = () => {
    if (pos >= bytes.length || ++tokens > limits.maxTokens) throw new Refused();
  };
  const readString = (): Uint8Array => {
    const from = pos;
    while (isDigit(bytes[pos])) pos++;
    const digits = bytes.subarray(from, pos);
    if (digits.length === 0 || digits.length > 12 || bytes[pos] !== 0x3a) throw new Refused();
    if (digits.length > 1 && digits[0] === 0x30) throw new Refused();
    const length = Number(Buffer.from(digits).toString('latin1'));
    if (pos + 1 + length > bytes.length) throw new Refused();
    pos += 1 + length;
    return bytes.subarray(pos - length, pos);
  };
  const value = (depth: number): void => {
    token();
    const byte = bytes[pos];
    if (byte === 0x69) {
      const end = bytes.indexOf(0x65, pos);
      if (end < 0) throw new Refused();
      const text = Buffer.from(bytes.subarray(pos + 1, end)).toString('latin1');
      if (!/^(0|-?[1-9][0-9]*)$/.test(text) || !Number.isSafeInteger(Number(text)))
        throw new Refused();
      pos = end + 1;
      return;
    }
    if (isDigit(byte)) {
      if (++values > maxValues) throw new Refused();
      readString();
      return;
    }
    if (byte !== 0x6c && byte !== 0x64) throw new Refused();
    if (depth >= limits.maxDepth || ++values > maxValues) throw new Refused();
    pos++;
    const keyBytes = new Set<string>();
    const keyTexts = new Set<string>();
    for (;;) {
      if (bytes[pos] === 0x65) {
        token();
        pos++;
        return;
      }
      if (byte === 0x6c) {
        value(depth + 1);
        continue;
      }
      token();
      if (!isDigit(bytes[pos])) throw new Refused();
      const key = readString();
      const latin1 = Buffer.from(key).toString('latin1');
      if (latin1 === '__proto__') throw new Refused();
      if (keyBytes.has(latin1)) throw new Refused('repeated key');
      keyBytes.add(latin1);
      const text = keyText(key);
      if (keyTexts.has(text)) throw new Refused();
      keyTexts.add(text);
      const start = pos;
      value(depth + 1);
      if (depth === 0) ranges.set(latin1, [start, pos]);
    }
  };
  try {
    value(0);
  } catch (error) {
    if (error instanceof Refused) return { accepted: false, reason: error.reason };
    throw error;
  }
  if (!allowTrailing && pos !== bytes.length) return { accepted: false, reason: 'other' };
  return { accepted: true, ranges };
}
