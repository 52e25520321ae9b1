/**
 * The create fast path's parser (src/commands/create.fast.ts) against
 * oclif's, in one process: its table must say what create.ts's flag
 * definitions say, and every command line it takes must mean to oclif
 * exactly the path and flags it hands on (defaults included). Lines are drawn
 * at random from flag words and values, good and bad, so that a divergence in
 * either parser is found. The end-to-end comparison of the two paths is
 * test/sea/create-fast-path.test.ts.
 */
import { describe, expect, it } from 'vitest';
import Create from '../../src/commands/create.ts';
import {
  CREATE_FAST_FLAGS,
  CREATE_FAST_SHORT,
  parsePlainCreate,
} from '../../src/commands/create.fast.ts';
import { asOclif, checkRandomLines } from '../helpers/fast-parse.ts';

interface FlagDefinition {
  type: 'boolean' | 'option';
  char?: string;
  multiple?: boolean;
  allowNo?: boolean;
  options?: readonly string[];
  env?: string;
}

const definitions = Create.flags as unknown as Record<string, FlagDefinition>;

const expectAsOclif = asOclif(Create, 'path', (argv) => parsePlainCreate(['create', ...argv], {}));

describe('create fast path parser', () => {
  it("holds create.ts's flags: kinds and short names", () => {
    expect(Object.keys(CREATE_FAST_FLAGS).sort()).toEqual(Object.keys(definitions).sort());
    for (const [name, kind] of Object.entries(CREATE_FAST_FLAGS)) {
      const flag = definitions[name]!;
      expect(Boolean(flag.allowNo), name).toBe(false);
      if (kind.type === 'boolean') expect(flag.type, name).toBe('boolean');
      else {
        expect(flag.type, name).toBe('option');
        expect(Boolean(flag.multiple), name).toBe(kind.type === 'multiple');
        expect(flag.options, name).toBeUndefined();
      }
    }
    const shorts = Object.entries(definitions)
      .filter(([, flag]) => flag.char)
      .map(([name, flag]) => [`-${flag.char}`, name]);
    expect(CREATE_FAST_SHORT).toEqual(Object.fromEntries(shorts));
    // The one variable oclif reads for create's flags: set, the line is oclif's.
    const env = Object.values(definitions).flatMap((flag) => (flag.env ? [flag.env] : []));
    expect(env).toEqual(['SHOAL_THREADS']);
    expect(parsePlainCreate(['create', 'dir'], { SHOAL_THREADS: '2' })).toBeNull();
  });

  it.each([
    [['dir']],
    [['dir', '-o', '-', '--v1', '--no-date']],
    [['dir', '-a', 'udp://t:1', '--announce=http://a/,http://b/', '-a', 'http://c/', '-q']],
    [['--hybrid', '--piece-length', '16KiB', '--threads', '256', 'dir', '--private', '-f']],
    [['dir', '--exclude', '*.log', '--exclude=tmp/**', '--include-hidden', '--threads=2']],
    [['dir', '--comment', 'a b', '--source', 'SRC', '--web-seed', 'http://w/', '--magnet']],
    // oclif's integer flags read leading zeros as decimal: 10 threads.
    [['dir', '--threads', '010']],
  ])('takes %j as oclif does', async (argv) => {
    expect(await expectAsOclif(argv)).toBe(true);
  });

  it.each([
    [['-a', 'udp://t:1', '--force', 'dir']],
    [['dir', '--v1', '--v2']],
    [['dir', '--threads', '257']],
    [['dir', '--threads', '0']],
    [['dir', '-q', '-q']],
    [['dir', '--no-force']],
    [['dir', '--comment', '-']],
    [['dir', '-o', '--force']],
    [['dir', '--help']],
    [['dir', '--constructor']],
    [['-']],
    [['dir', '--', 'x']],
    [[]],
  ])('leaves %j to oclif', (argv) => {
    expect(parsePlainCreate(['create', ...argv], {})).toBeNull();
  });

  it('any line it takes means the same to oclif', async () => {
    const values = [
      'x',
      'o',
      '-',
      '0',
      '1',
      '010',
      '256',
      '257',
      '-1',
      '',
      'auto',
      '16KiB',
      '*.log',
      'udp://t:1',
      'http://a/,http://b/',
    ];
    const flagWords = [
      ...Object.keys(CREATE_FAST_FLAGS).map((name) => `--${name}`),
      ...Object.keys(CREATE_FAST_SHORT),
      '--no-force',
      '--no-v1',
      '--nope',
      '--',
    ];
    await checkRandomLines(
      { flagWords, values, positionals: ['dir', 'file.bin', '-'] },
      expectAsOclif,
    );
  });
});
