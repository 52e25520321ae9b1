/**
 * A plain `create` runs without oclif (src/commands/create.fast.ts) and must
 * do exactly what the full command does. `create FLAGS -- PATH` means the
 * same to oclif but is not a line the fast path takes, so it is the full
 * command's answer to compare with: same exit code, same stderr, same stdout
 * bytes and the same .torrent bytes, for several flag combinations and for
 * errors the command itself reports. Lines the fast path does not take
 * (typos, conflicting flags, oclif's greedy multiple flags) must still get
 * oclif's one-line error. Runs on the source and, in the `binary` project,
 * on the executable (vitest.config.ts).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, spawnShoal, trackProcesses, type RunResult } from '../helpers/cli.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';

trackProcesses();
cleanupTempDirs();

let work: string;
let tree: string;
let single: string;

beforeAll(async () => {
  work = tempDir('shoal-create-fast-');
  tree = path.join(work, 'payload');
  await makeTree(tree, [
    { path: 'a.bin', size: 70_000 },
    { path: 'sub/b.bin', size: 5_000 },
    { path: 'sub/deeper/c.log', size: 40_000 },
    { path: 'sub/.hidden', size: 300 },
    { path: 'z.bin', size: 1 },
  ]);
  single = path.join(work, 'single.bin');
  await makeTree(work, [{ path: 'single.bin', size: 100_000 }]);
  mkdirSync(path.join(work, 'empty'));
});

/** What a run left behind, with what differs by nature between two runs (clock, speed) masked. */
interface Outcome {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  torrent: Buffer | null;
}

function masked(text: string): string {
  return text
    .replace(/"seconds":[\d.e-]+/g, '"seconds":0')
    .replace(/"time":"[^"]*"/g, '"time":"T"')
    .replace(/"(rate|eta)":[\d.e-]+/g, '"$1":0')
    .replace(/ in \d+(\.\d+)?m?s \([^)]*\)/g, ' in T');
}

/** Runs create with `flags`, the path placed as the fast path takes it or after `--` (the full command). */
async function outcome(flags: string[], input: string, full: boolean): Promise<Outcome> {
  const cwd = path.join(work, full ? 'full' : 'fast');
  rmSync(cwd, { recursive: true, force: true });
  mkdirSync(cwd);
  const args = full ? ['create', ...flags, '--', input] : ['create', input, ...flags];
  const result = await runShoal(args, { cwd });
  const named = flags.includes('-o') ? flags[flags.indexOf('-o') + 1]! : null;
  const torrentPath = path.join(cwd, named ?? `${path.basename(input)}.torrent`);
  return {
    code: result.code,
    stdout: Buffer.from(
      masked(result.stdoutBytes.toString('latin1')).replaceAll(cwd, '<cwd>'),
      'latin1',
    ),
    stderr: masked(result.stderr).replaceAll(cwd, '<cwd>'),
    torrent: existsSync(torrentPath) ? readFileSync(torrentPath) : null,
  };
}

async function expectSame(flags: string[], input: string): Promise<Outcome> {
  const fast = await outcome(flags, input, false);
  const full = await outcome(flags, input, true);
  const what = `create ${flags.join(' ')}\nfast: exit ${fast.code}\n${fast.stdout}\n${fast.stderr}\nfull: exit ${full.code}\n${full.stdout}\n${full.stderr}`;
  expect(fast.code, what).toBe(full.code);
  expect(fast.stderr, what).toBe(full.stderr);
  expect(fast.stdout.equals(full.stdout), what).toBe(true);
  expect(fast.torrent === null, what).toBe(full.torrent === null);
  if (fast.torrent && full.torrent) expect(fast.torrent.equals(full.torrent), what).toBe(true);
  return fast;
}

describe('create fast path', () => {
  it('runs without starting oclif', async () => {
    // oclif's own debug lines (DEBUG=oclif:*) show whether it started.
    const env = { DEBUG: 'oclif:*' };
    const out = path.join(work, 'probe.torrent');
    const fast = await runShoal(['create', tree, '-o', out, '--force', '--no-date'], { env });
    expect(fast.code, show(fast)).toBe(0);
    expect(fast.stderr).not.toMatch(/oclif:/);
    const full = await runShoal(['create', '-o', out, '--force', '--no-date', '--', tree], { env });
    expect(full.code, show(full)).toBe(0);
    expect(full.stderr).toMatch(/oclif:/);
  });

  const cases: [string, string[], () => string][] = [
    ['defaults', ['--no-date'], () => tree],
    ['a single file as JSON', ['--no-date', '-o', 'one.torrent', '--json'], () => single],
    [
      'every field',
      [
        '--no-date',
        '--hybrid',
        '--piece-length',
        '16KiB',
        '-a',
        'udp://t.example:1/announce',
        '--announce=http://a.example/ann,http://b.example/ann',
        '--web-seed',
        'http://w.example/',
        '--comment',
        'a comment',
        '--source',
        'SRC',
        '--private',
        '--magnet',
        '-o',
        'every.torrent',
        '-f',
      ],
      () => tree,
    ],
    [
      'v2, excluded and hidden files, threads',
      ['--v2', '--no-date', '--exclude', '*.log', '--include-hidden', '--threads', '2', '-q'],
      () => tree,
    ],
    ['v1 to stdout', ['--no-date', '--v1', '-o', '-'], () => single],
    ['the event stream', ['--no-date', '--events', '--piece-length=32KiB'], () => tree],
    ['progress lines', ['--no-date', '--verbose'], () => single],
    // Errors the command reports itself, after the fast path parsed the line.
    ['a missing input', ['--no-date'], () => path.join(work, 'missing')],
    ['an empty directory', ['--no-date'], () => path.join(work, 'empty')],
    ['a bad piece length', ['--piece-length', '3 parsecs'], () => tree],
    ['a bad tracker URL', ['-a', 'ftp://t.example/'], () => tree],
    ['a bad web seed URL', ['--web-seed', 'udp://w.example/'], () => tree],
    ['--json with --events', ['--json', '--events'], () => tree],
    ['--out - with --magnet', ['-o', '-', '--magnet'], () => tree],
  ];
  for (const [name, flags, input] of cases) {
    it(`${name}: the same as the full command`, async () => {
      await expectSame(flags, input());
    });
  }

  it('an existing output: refused, then overwritten with --force, as by the full command', async () => {
    const flags = ['--no-date', '-o', 'exists.torrent'];
    const runs: RunResult[][] = [];
    for (const full of [false, true]) {
      const cwd = path.join(work, full ? 'full-exists' : 'fast-exists');
      rmSync(cwd, { recursive: true, force: true });
      mkdirSync(cwd);
      writeFileSync(path.join(cwd, 'exists.torrent'), 'keep');
      const line = (more: string[]) =>
        full ? ['create', ...flags, ...more, '--', tree] : ['create', tree, ...flags, ...more];
      const refused = await runShoal(line([]), { cwd });
      expect(readFileSync(path.join(cwd, 'exists.torrent'), 'utf8')).toBe('keep');
      const forced = await runShoal(line(['--force']), { cwd });
      expect(forced.code, show(forced)).toBe(0);
      runs.push(
        [refused, forced].map((r) => ({
          ...r,
          stdout: r.stdout.replaceAll(cwd, '<cwd>'),
          stderr: r.stderr.replaceAll(cwd, '<cwd>'),
        })),
      );
    }
    const [[fastRefused, fastForced], [fullRefused, fullForced]] = runs as [
      RunResult[],
      RunResult[],
    ];
    expect(fastRefused!.code, show(fastRefused!)).not.toBe(0);
    expect([fastRefused!.code, fastRefused!.stderr]).toEqual([
      fullRefused!.code,
      fullRefused!.stderr,
    ]);
    expect(fastForced!.stdout).toBe(fullForced!.stdout);
  });

  it.each([
    [['--forse'], /^shoal: error: Nonexistent flag: --forse/],
    // Not a flag of create's, though a key of every object; oclif's answer is its own.
    [['--constructor'], /^shoal: error: Unexpected flag /],
    [
      ['--v1', '--v2'],
      /^shoal: error: The following errors occurred: --v1=true cannot also be provided/,
    ],
    [
      ['--threads', '0'],
      /^shoal: error: --threads: Expected an integer greater than or equal to 1/,
    ],
    [
      ['-o', 'a.torrent', '-o', 'b.torrent'],
      /^shoal: error: Flag --out can only be specified once/,
    ],
  ])('leaves %j to oclif: one line, exit 2', async (flags, message) => {
    const result = await runShoal(['create', tree, ...flags], { cwd: work });
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr, show(result)).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it("leaves a path after a multiple flag to oclif, which takes it as that flag's value", async () => {
    // oclif reads `-a URL --no-date PATH` as two trackers and no path.
    const result = await runShoal(['create', '-a', 'udp://t.example:1', '--no-date', tree], {
      cwd: work,
    });
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr, show(result)).toMatch(/^shoal: error: Missing 1 required arg/);
  });

  it.each([
    ['fast path', false],
    ['full command', true],
  ])('%s: a reader that went away (`| head`) ends the output quietly, exit 0', async (_, full) => {
    const out = path.join(work, `gone-${full ? 'full' : 'fast'}.torrent`);
    const args = full
      ? ['create', '--events', '--force', '-o', out, '--', tree]
      : ['create', tree, '--events', '--force', '-o', out];
    const proc = spawnShoal(args, { cwd: work, timeoutMs: 60_000 });
    // Closed before shoal writes its first event: every write it makes meets EPIPE.
    proc.child.stdout!.destroy();
    const result = await proc.exited;
    expect(result.code, show(result)).toBe(0);
    expect(result.stderr, show(result)).not.toMatch(/EPIPE|node:|\n\s+at /);
    expect(existsSync(out)).toBe(true);
  });
});
