/**
 * oclif flag definitions shared by several commands: human sizes and
 * durations, and the output-mode flags every command offers. What the values
 * mean is flag-values.ts (re-exported here).
 */
import { Flags } from '@oclif/core';
import { parseDuration, parseRatio, parseSize } from './flag-values.ts';

export {
  checkWebSeedUrls,
  parseDhtNode,
  parseDuration,
  parseHostPort,
  parseRatio,
  parseSelection,
  parseSize,
} from './flag-values.ts';

export const sizeFlag = Flags.custom<number>({
  parse: async (input) => parseSize(input),
});

export const ratioFlag = Flags.custom<number>({
  parse: async (input) => parseRatio(input, '--seed-ratio'),
});

export const durationFlag = Flags.custom<number>({
  parse: async (input) => parseDuration(input),
});

/** Flags that decide how a command reports: shared by every command. */
export const outputFlags = {
  json: Flags.boolean({ description: 'print one JSON document with the result on stdout' }),
  quiet: Flags.boolean({ char: 'q', description: 'print nothing on stderr but errors' }),
  verbose: Flags.boolean({
    char: 'v',
    description: 'more detail on stderr (stack traces on errors)',
  }),
};

/** `--events`: the NDJSON event stream on stdout (docs/EVENTS.md); not with --json. */
export const eventsFlag = {
  events: Flags.boolean({
    description:
      'write one JSON event per line on stdout (NDJSON, see docs/EVENTS.md); not with --json',
  }),
};

/** `--threads` (SHOAL_THREADS): worker threads for hashing. */
export function threadsFlag(description = 'hashing threads (default: one per core)') {
  return Flags.integer({ description, env: 'SHOAL_THREADS', min: 1, max: 256 });
}

/** `--seed-until EXPR` (seed, download); parsed by seed-until-flag.ts. */
export const seedUntilFlag = Flags.string({
  description:
    "keep seeding until this holds, then exit 0: completed>=N (the trackers' scrape), idle>=DUR, time>=DUR, ratio>=R, joined with | (any) and & (all), e.g. 'completed>=50 | time>=2h'",
  exclusive: ['seed-time', 'seed-ratio'],
});
