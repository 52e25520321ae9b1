/**
 * Shared settings for the property-based (fast-check) tests of the codecs.
 *
 * - FUZZ_RUNS: inputs per property. The default, 5 000, is what CI runs on
 *   every push; the long runs in docs/FUZZING.md set it to 1 000 000.
 * - FUZZ_SEED: fixes fast-check's seed so a run can be repeated exactly
 *   (fast-check prints the seed of any failing run; without FUZZ_SEED every
 *   run draws a new one, so CI keeps exploring new inputs).
 */
import { it } from 'vitest';
import fc, { type Parameters } from 'fast-check';

export const numRuns = positiveInteger('FUZZ_RUNS', 5000);

const seed = process.env.FUZZ_SEED ? positiveInteger('FUZZ_SEED', 0) : undefined;

/** Options for fc.assert: the shared run count, and the seed when FUZZ_SEED is set. */
export function fuzzOptions<T>(extra: Parameters<T> = {}): Parameters<T> {
  return { numRuns, ...(seed === undefined ? {} : { seed }), ...extra };
}

/**
 * A generous per-test timeout for a property with `numRuns` inputs: vitest's
 * 60 s default is too short for a million inputs, and a fuzz test must fail
 * on a finding, never on the clock.
 */
export const fuzzTimeout = Math.max(60_000, numRuns * 10);

function positiveInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${name} must be a non-negative integer, got '${text}'`);
  }
  return value;
}

/** One edit of a byte string: overwrite, insert, delete, or cut the rest off. */
interface Edit {
  kind: 'set' | 'insert' | 'delete' | 'truncate';
  at: number;
  byte: number;
}

const arbEdit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom('set', 'insert', 'delete', 'truncate'),
  at: fc.nat(),
  byte: fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    // The bytes that steer bencode and the length prefixes: digits, ':', 'd', 'e', 'i', 'l', '-'.
    fc.constantFrom(0x30, 0x31, 0x39, 0x3a, 0x64, 0x65, 0x69, 0x6c, 0x2d, 0x00, 0xff),
  ),
});

/** Applies the edits in order; positions wrap around the current length. */
export function applyEdits(bytes: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let out = Array.from(bytes);
  for (const { kind, at, byte } of edits) {
    const i = at % Math.max(1, out.length + (kind === 'insert' ? 1 : 0));
    if (kind === 'set' && out.length > 0) out[i] = byte;
    else if (kind === 'insert') out.splice(i, 0, byte);
    else if (kind === 'delete') out.splice(i, 1);
    else if (kind === 'truncate') out = out.slice(0, i);
  }
  return Uint8Array.from(out);
}

/**
 * Byte strings for the "accepted re-encodes to what was read" properties:
 * valid encodings as they are (half the time), valid encodings with one to
 * four random edits, and plain random bytes. Parsers must be tried on all
 * three: random bytes alone are rejected at the first byte almost always.
 */
export function mutatedFrom(
  valid: fc.Arbitrary<Uint8Array>,
  randomMaxLength = 64,
): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { arbitrary: valid, weight: 2 },
    {
      arbitrary: fc
        .tuple(valid, fc.array(arbEdit, { minLength: 1, maxLength: 4 }))
        .map(([bytes, edits]) => applyEdits(bytes, edits)),
      weight: 3,
    },
    { arbitrary: fc.uint8Array({ maxLength: randomMaxLength }), weight: 1 },
  );
}

/** Bytes as hex text: comparing these makes a failing assertion print readable bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * A vitest test that checks one fast-check property with the shared run
 * count, seed and timeout.
 */
export function fuzzIt<Ts extends unknown[]>(name: string, property: fc.IRawProperty<Ts>): void {
  it(name, () => fc.assert(property, fuzzOptions()), fuzzTimeout);
}
