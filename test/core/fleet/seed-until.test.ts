import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../../src/core/errors.ts';
import {
  describeVerdict,
  evaluateSeedUntil,
  needsScrape,
  parseSeedUntil,
  type SeedUntilSnapshot,
} from '../../../src/core/fleet/seed-until.ts';
import { parseDuration, parseRatio } from '../../../src/commands/flags.ts';

/** As the commands will call it: with the CLI's own duration and ratio parsers. */
const parse = (text: string) =>
  parseSeedUntil(text, { duration: parseDuration, ratio: parseRatio });

const start: SeedUntilSnapshot = { completed: undefined, idleMs: 0, elapsedMs: 0, ratio: 0 };

function check(text: string, snapshot: Partial<SeedUntilSnapshot>) {
  const full = { ...start, ...snapshot };
  const verdict = evaluateSeedUntil(parse(text), full);
  return { met: verdict.met, why: verdict.met ? describeVerdict(verdict, full) : '' };
}

describe('--seed-until parsing', () => {
  it('reads each condition with its unit', () => {
    expect(parse('completed>=50')).toEqual({
      kind: 'condition',
      name: 'completed',
      value: 50,
      text: 'completed>=50',
    });
    expect(parse('idle>=90s')).toMatchObject({ name: 'idle', value: 90_000 });
    expect(parse('time >= 2h')).toMatchObject({ name: 'time', value: 7_200_000 });
    expect(parse('ratio>=1.5')).toMatchObject({ name: 'ratio', value: 1.5 });
    expect(parse('TIME>=1.5m')).toMatchObject({ name: 'time', value: 90_000 });
  });

  it('binds & tighter than | and honours parentheses', () => {
    const flat = parse('completed>=5 | time>=1h & ratio>=2');
    expect(flat).toMatchObject({
      kind: 'any',
      parts: [{ name: 'completed' }, { kind: 'all', parts: [{ name: 'time' }, { name: 'ratio' }] }],
    });
    const grouped = parse('(completed>=5 | time>=1h) & ratio>=2');
    expect(grouped).toMatchObject({
      kind: 'all',
      parts: [{ kind: 'any', parts: [{ name: 'completed' }, { name: 'time' }] }, { name: 'ratio' }],
    });
  });

  it.each([
    ['', 'empty expression'],
    ['   ', 'empty expression'],
    ['completed', 'expected ">=" after "completed"'],
    ['completed>50', 'unexpected ">"'],
    ['completed>=', 'expected a value after "completed>="'],
    ['peers>=3', 'unknown condition "peers"'],
    ['completed>=-1', 'unexpected "-"'],
    ['completed>=2.5', 'whole number'],
    ['completed>=99999999999', 'whole number'],
    ['idle>=soon', 'idle "soon"'],
    ['time>=5y', 'time "5y"'],
    ['ratio>=lots', 'ratio "lots"'],
    ['completed>=5 |', 'at the end'],
    ['completed>=5 time>=1h', 'expected "|" or "&" at character 14'],
    ['(completed>=5', 'missing ")"'],
    ['completed>=5)', 'unmatched ")"'],
    ['completed>=5 || time>=1h', 'found "|"'],
    ['completed>=5 ; rm -rf /', 'unexpected ";"'],
    ['('.repeat(40) + 'time>=1s' + ')'.repeat(40), 'nested deeper than 32'],
    ['time>=1s|'.repeat(200) + 'time>=1s', 'longer than 1000 characters'],
  ])('refuses %j with a one-line usage error (%s)', (text, why) => {
    let caught: unknown;
    try {
      parse(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    const error = caught as UsageError;
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toContain(why);
    expect(error.message).toContain('--seed-until');
    expect(error.message).not.toContain('\n');
  });
});

describe('--seed-until evaluation', () => {
  it('a single condition holds from its threshold on', () => {
    expect(check('completed>=3', { completed: 2 }).met).toBe(false);
    expect(check('completed>=3', { completed: 3 })).toEqual({
      met: true,
      why: 'completed>=3 (3 completed)',
    });
    expect(check('idle>=10s', { idleMs: 9_999 }).met).toBe(false);
    expect(check('idle>=10s', { idleMs: 10_000 })).toEqual({
      met: true,
      why: 'idle>=10s (idle 10s)',
    });
    expect(check('time>=2h', { elapsedMs: 7_260_000 }).why).toBe('time>=2h (seeding 2h 1m)');
    expect(check('ratio>=1', { ratio: 0.99 }).met).toBe(false);
    expect(check('ratio>=1', { ratio: 1.25 }).why).toBe('ratio>=1 (ratio 1.25)');
  });

  it('completed is never met before a tracker answered, even at zero', () => {
    expect(check('completed>=0', { completed: undefined }).met).toBe(false);
    expect(check('completed>=0', { completed: 0 }).met).toBe(true);
  });

  it('| ends on whichever side held, & needs every side and names them all', () => {
    const any = 'completed>=50 | time>=2h';
    expect(check(any, { completed: 10, elapsedMs: 60_000 }).met).toBe(false);
    expect(check(any, { completed: 50 }).why).toBe('completed>=50 (50 completed)');
    expect(check(any, { completed: 10, elapsedMs: 7_200_000 }).why).toBe(
      'time>=2h (seeding 2h 0m)',
    );
    const all = 'completed>=2 & idle>=30s';
    expect(check(all, { completed: 2, idleMs: 1000 }).met).toBe(false);
    expect(check(all, { completed: 1, idleMs: 60_000 }).met).toBe(false);
    expect(check(all, { completed: 2, idleMs: 30_000 }).why).toBe(
      'completed>=2 (2 completed) & idle>=30s (idle 30s)',
    );
    const grouped = '(completed>=5 | time>=1h) & ratio>=2';
    expect(check(grouped, { elapsedMs: 3_600_000, ratio: 1 }).met).toBe(false);
    expect(check(grouped, { elapsedMs: 3_600_000, ratio: 2 }).why).toBe(
      'time>=1h (seeding 1h 0m) & ratio>=2 (ratio 2.00)',
    );
  });

  it('knows when the trackers must be scraped', () => {
    expect(needsScrape(parse('time>=1h | (ratio>=2 & completed>=3)'))).toBe(true);
    expect(needsScrape(parse('time>=1h | idle>=5m'))).toBe(false);
  });
});
