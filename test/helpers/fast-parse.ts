/**
 * Holding a fast path's parser (src/commands/X.fast.ts) to oclif's: a line
 * the fast path takes must mean to oclif exactly what the fast path hands on,
 * checked on single lines and on lines drawn at random from flag words and
 * values, good and bad (test/commands/create-fast-parse.test.ts).
 */
import { Parser } from '@oclif/core';
import fc from 'fast-check';
import { expect } from 'vitest';
import { fuzzOptions } from './fuzz.ts';

/** A command's definitions, as oclif's parser takes them (the command class's statics). */
interface OclifCommand {
  flags: Parameters<typeof Parser.parse>[1]['flags'];
  args: Parameters<typeof Parser.parse>[1]['args'];
}

/**
 * A checker for one command: true when the fast path took `argv` (and oclif
 * means the same by it), false when it left the line to oclif.
 */
export function asOclif(
  command: OclifCommand,
  positional: string,
  /** What the fast path's parser gives: `{ [positional]: ..., flags }`, or null. */
  fastParse: (argv: string[]) => object | null,
): (argv: string[]) => Promise<boolean> {
  return async (argv) => {
    const fast = fastParse(argv);
    if (fast === null) return false;
    let oclif: unknown;
    try {
      const { args, flags } = await Parser.parse(argv, { ...command, strict: true });
      oclif = { [positional]: args[positional], flags };
    } catch (error) {
      oclif = error;
    }
    expect(oclif, JSON.stringify(argv)).not.toBeInstanceOf(Error);
    expect(fast, JSON.stringify(argv)).toEqual(oclif);
    return true;
  };
}

/**
 * Runs `check` on 2 000 lines of up to 8 words drawn from `flagWords`,
 * `values`, `flag=value` and `positionals`, and fails unless the fast path
 * took enough of them for its accepting branch to have been tested.
 */
export async function checkRandomLines(
  words: { flagWords: string[]; values: string[]; positionals: string[] },
  check: (argv: string[]) => Promise<boolean>,
): Promise<void> {
  const word = fc.oneof(
    fc.constantFrom(...words.flagWords),
    fc.constantFrom(...words.values),
    fc
      .tuple(fc.constantFrom(...words.flagWords), fc.constantFrom(...words.values))
      .map(([flag, value]) => `${flag}=${value}`),
    fc.constantFrom(...words.positionals),
  );
  let taken = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(word, { maxLength: 8 }), async (argv) => {
      if (await check(argv)) taken++;
    }),
    fuzzOptions({ numRuns: 2000 }),
  );
  expect(taken).toBeGreaterThan(20);
}
