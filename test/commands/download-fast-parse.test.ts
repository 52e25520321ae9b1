/**
 * The download fast path's parser (src/commands/download.fast.ts) against
 * oclif's, in one process: its tables must say what download.ts's flag
 * definitions say, and every command line it takes must mean to oclif
 * exactly the source and flags it hands on (defaults included). Lines are
 * drawn at random from flag words and values, good and bad, so that a
 * divergence in either parser is found. The end-to-end comparison of the two
 * paths is test/sea/download-fast-path.test.ts.
 */
import { Parser } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import Download from '../../src/commands/download.ts';
import {
  FAST_DEFAULTS,
  FAST_ENV,
  FAST_FLAGS,
  FAST_SHORT,
  parsePlainDownload,
} from '../../src/commands/download.fast.ts';
import { checkRandomLines } from '../helpers/fast-parse.ts';

interface FlagDefinition {
  type: 'boolean' | 'option';
  char?: string;
  multiple?: boolean;
  allowNo?: boolean;
  options?: readonly string[];
  default?: unknown;
  env?: string;
  exclusive?: string[];
}

const definitions = Download.flags as unknown as Record<string, FlagDefinition>;

/** oclif's parse of `download ...argv`, or the error it gives. */
async function oclifParse(argv: string[]): Promise<{ source: string; flags: unknown } | Error> {
  try {
    const { args, flags } = await Parser.parse(argv, {
      flags: Download.flags,
      args: Download.args,
      strict: true,
    });
    return { source: args.source as string, flags };
  } catch (error) {
    return error as Error;
  }
}

async function expectAsOclif(argv: string[]): Promise<boolean> {
  const fast = parsePlainDownload(['download', ...argv], {});
  if (fast === null) return false;
  const oclif = await oclifParse(argv);
  expect(oclif, JSON.stringify(argv)).not.toBeInstanceOf(Error);
  expect(fast, JSON.stringify(argv)).toEqual(oclif);
  return true;
}

describe('download fast path parser', () => {
  it("holds download.ts's flags: kinds, short names, defaults, environment", () => {
    for (const [name, kind] of Object.entries(FAST_FLAGS)) {
      const flag = definitions[name];
      expect(flag, name).toBeDefined();
      expect(flag!.exclusive ?? [], name).toEqual([]);
      if (kind.type === 'boolean')
        expect([flag!.type, Boolean(flag!.allowNo)], name).toEqual(['boolean', false]);
      else if (kind.type === 'negatable')
        expect([flag!.type, flag!.allowNo], name).toEqual(['boolean', true]);
      else {
        expect(flag!.type, name).toBe('option');
        expect(Boolean(flag!.multiple), name).toBe(kind.type === 'multiple');
        if (kind.type === 'string') expect(flag!.options, name).toEqual(kind.options);
        else expect(flag!.options, name).toBeUndefined();
      }
    }
    const shorts = Object.entries(definitions)
      .filter(([, flag]) => flag.char)
      .map(([name, flag]) => [`-${flag.char}`, name]);
    expect(FAST_SHORT).toEqual(Object.fromEntries(shorts));
    const defaults = Object.entries(definitions)
      .filter(([, flag]) => flag.default !== undefined)
      .map(([name, flag]) => [name, flag.default]);
    expect(FAST_DEFAULTS).toEqual(Object.fromEntries(defaults));
    const env = Object.values(definitions).flatMap((flag) => (flag.env ? [flag.env] : []));
    expect([...FAST_ENV].sort()).toEqual(env.sort());
  });

  it.each([
    [['x.torrent']],
    [['x.torrent', '-o', 'out', '-q', '--timeout', '60s']],
    [['magnet:?xt=urn:btih:3f9aac158c7de8dfcab171ea58a17aabdf7fbc93', '--json', '--no-dht']],
    [['3f9aac158c7de8dfcab171ea58a17aabdf7fbc93', '--events', '--no-lsd']],
    [['x.torrent', '--peer', '127.0.0.1:1', '--peer=[::1]:2', '--tracker', 'udp://t:1', '-v']],
    [['--out=o', '--exclude', '*.log', '--exclude=*.txt', '--max-peers', '7', 'x.torrent']],
    [
      [
        'x.torrent',
        '--port',
        '0',
        '--threads',
        '256',
        '--download-limit',
        '1.5MB',
        '--upload-limit=4m',
      ],
    ],
    [['x.torrent', '--seed-time', '10m', '--seed-ratio', '1.0', '--progress-interval', '500ms']],
    [
      [
        'x.torrent',
        '--transport',
        'utp',
        '--encryption=require',
        '--no-web-seeds',
        '--verify',
        '-f',
      ],
    ],
    [['x.torrent', '--save-torrent', 's.torrent', '--receipt', 'r.json', '--expect', 'sha256:00']],
    [['x.torrent', '--expect-file', 'a=sha256:00', '--web-seed', 'http://w/', '--select', '0,2-4']],
  ])('takes %j as oclif does', async (argv) => {
    expect(await expectAsOclif(argv)).toBe(true);
  });

  it.each([
    [['x.torrent', '--exclude', 'a', 'y']],
    [['--exclude', 'a', '-q', 'x.torrent']],
    [['x.torrent', '--timeout', '3 parsecs']],
    [['x.torrent', '--port', '65536']],
    [['x.torrent', '--max-peers', '0']],
    [['x.torrent', '--transport', 'pigeon']],
    [['x.torrent', '-q', '-q']],
    [['x.torrent', '--dht', '--no-dht']],
    [['x.torrent', '--no-force']],
    [['x.torrent', '--tui']],
    [['x.torrent', '--seed-until', 'time>=1s']],
    [['x.torrent', '--on-done', 'true']],
    [['x.torrent', '--help']],
    [['x.torrent', '--constructor']],
    [['x.torrent', '-o', '--quiet']],
    [['x.torrent', '-o=a']],
    [['-']],
    [['x.torrent', '--', 'y']],
    [[]],
  ])('leaves %j to oclif', (argv) => {
    expect(parsePlainDownload(['download', ...argv], {})).toBeNull();
  });

  it('leaves a line to oclif when an environment variable oclif reads is set', () => {
    for (const name of [...FAST_ENV, 'SHOAL_DEBUG'])
      expect(parsePlainDownload(['download', 'x.torrent'], { [name]: '1' }), name).toBeNull();
    expect(parsePlainDownload(['download', 'x.torrent'], {})).not.toBeNull();
  });

  it('any line it takes means the same to oclif', async () => {
    const values = [
      'x',
      'o',
      '0',
      '1',
      '7',
      '2000',
      '65535',
      '70000',
      '10m',
      '1.5MB',
      '-1',
      '',
      'both',
      'tcp',
      'off',
      'nope',
      '*.log',
      '0,2',
      '1.0',
      'sha256:00',
    ];
    const flagWords = [
      ...Object.keys(FAST_FLAGS).map((name) => `--${name}`),
      ...Object.keys(FAST_SHORT),
      '--no-dht',
      '--no-lsd',
      '--no-web-seeds',
      '--no-force',
      '--tui',
      '--follow',
      '--nope',
      '--',
    ];
    await checkRandomLines(
      { flagWords, values, positionals: ['x.torrent', 'magnet:?xt=urn:btih:00', '-'] },
      expectAsOclif,
    );
  });
});
