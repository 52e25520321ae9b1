/**
 * The inspect fast path's parser (src/commands/inspect.fast.ts) against
 * oclif's: it takes only the source, --json and --files, each once, and every
 * line it takes must mean the same source and output choices to oclif. The
 * end-to-end comparison of the two paths is test/sea/fast-path.test.ts.
 */
import { Parser } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import Inspect from '../../src/commands/inspect.ts';
import { parsePlainInspect } from '../../src/commands/inspect.fast.ts';
import { checkRandomLines } from '../helpers/fast-parse.ts';

/** True when the fast path took `argv`, after checking oclif reads the same from it. */
async function expectAsOclif(argv: string[]): Promise<boolean> {
  const fast = parsePlainInspect(['inspect', ...argv], {});
  if (fast === null) return false;
  const { args, flags } = await Parser.parse(argv, {
    flags: Inspect.flags,
    args: Inspect.args,
    strict: true,
  });
  // Every other flag of inspect.ts is absent or at its default on a line the fast path takes.
  const { json = false, files = false, ...others } = flags as Record<string, unknown>;
  expect(fast, JSON.stringify(argv)).toEqual({ source: args.source, json, files });
  const defaults = Object.fromEntries(
    Object.entries(Inspect.flags)
      .filter(([, flag]) => (flag as { default?: unknown }).default !== undefined)
      .map(([name, flag]) => [name, (flag as { default?: unknown }).default]),
  );
  expect(others, JSON.stringify(argv)).toEqual(defaults);
  return true;
}

describe('inspect fast path parser', () => {
  it.each([
    [['x.torrent']],
    [['x.torrent', '--json']],
    [['--files', 'x.torrent', '--json']],
    [['magnet:?xt=urn:btih:3f9aac158c7de8dfcab171ea58a17aabdf7fbc93']],
  ])('takes %j as oclif does', async (argv) => {
    expect(await expectAsOclif(argv)).toBe(true);
  });

  it.each([
    [['x.torrent', '--json', '--json']],
    [['x.torrent', '--json=true']],
    [['x.torrent', '--no-json']],
    [['x.torrent', '--verify', 'dir']],
    [['x.torrent', '-q']],
    [['x.torrent', '--help']],
    [['x.torrent', '--constructor']],
    [['x.torrent', 'y.torrent']],
    [['x.torrent', '--', 'y']],
    [['-']],
    [['']],
    [[]],
  ])('leaves %j to oclif', (argv) => {
    expect(parsePlainInspect(['inspect', ...argv], {})).toBeNull();
  });

  it('leaves a line to oclif when SHOAL_THREADS is set (oclif validates it)', () => {
    expect(parsePlainInspect(['inspect', 'x.torrent'], { SHOAL_THREADS: '2' })).toBeNull();
  });

  it('any line it takes means the same to oclif', async () => {
    const flagWords = [
      ...Object.keys(Inspect.flags).map((name) => `--${name}`),
      '-q',
      '-v',
      '--no-json',
      '--nope',
      '--',
    ];
    await checkRandomLines(
      { flagWords, values: ['x', 'dir', '', '-', 'true'], positionals: ['x.torrent', '-'] },
      expectAsOclif,
    );
  });
});
