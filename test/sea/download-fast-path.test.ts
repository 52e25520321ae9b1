/**
 * A plain `download` runs without oclif (src/commands/download.fast.ts) and
 * must do exactly what the full command does. `download FLAGS -- SOURCE`
 * means the same to oclif but is not a line the fast path takes, so it is the
 * full command's answer to compare with: same exit code, same stderr and
 * stdout (what differs by nature between two runs masked: times, rates, our
 * listening port), the same files on disk and the same receipt, downloading
 * from one shoal seeder on 127.0.0.1, and for errors the command reports.
 * Lines the fast path does not take still get oclif's one-line error. Runs on
 * the source and, in the `binary` project, on the executable
 * (vitest.config.ts); which bundle each path loads there is
 * test/sea/download-bundle.test.ts.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, tempDir } from '../helpers/files.ts';
import { peerArg, seedPayload, type ShoalSeeder } from '../helpers/swarm.ts';

// The seeder serves every test of the file: processes are killed after the file, not each test
// (every run is bounded by its own timeout).
trackProcesses({ concurrent: true });
cleanupTempDirs();

let work: string;
let tree: string;
let torrent: string;
let seeder: ShoalSeeder;

beforeAll(async () => {
  work = tempDir('shoal-download-fast-');
  ({ tree, torrent, seeder } = await seedPayload(work, [
    { path: 'a.bin', size: 70_000 },
    { path: 'sub/b.bin', size: 5_000 },
    { path: 'sub/deeper/c.log', size: 40_000 },
    { path: 'z.bin', size: 1 },
  ]));
});

afterAll(() => {
  seeder?.proc.kill();
});

/** What a run left behind, with what differs by nature between two runs masked. */
interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  out: string;
}

function masked(text: string, cwd: string): string {
  return text
    .replaceAll(cwd, '<cwd>')
    .replace(/"(seconds|rate|eta|port)": ?[\d.e-]+/g, '"$1":0')
    .replace(/"(time|startedAt|endedAt)": ?"[^"]*"/g, '"$1":"T"')
    .replace(/listening on port \d+/g, 'listening on port P')
    .replace(/ in \d+(\.\d+)?m?s\b/g, ' in T')
    .replace(/\d+(\.\d+)? ?[KMG]?i?B\/s/g, 'R');
}

/**
 * --events as what must match: each event (masked), sorted, since the order of
 * peer and piece events is the network's; `progress` comes every second, so
 * how many there are depends on the transfer's speed.
 */
function eventsOf(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '' && !line.includes('"type":"progress"'))
    .sort();
}

/** Runs download with `flags`, the source placed as the fast path takes it or after `--`. */
async function outcome(flags: string[], source: string, full: boolean): Promise<Outcome> {
  const cwd = path.join(work, full ? 'full' : 'fast');
  rmSync(cwd, { recursive: true, force: true });
  mkdirSync(cwd);
  const args = full ? ['download', ...flags, '--', source] : ['download', source, ...flags];
  const result = await runShoal(args, { cwd, timeoutMs: 45_000 });
  // Progress lines depend on how long the transfer took; the lines around them must match.
  const stderr = masked(result.stderr, cwd)
    .split('\n')
    .filter((line) => !/\d%/.test(line))
    .join('\n');
  return {
    code: result.code,
    stdout: masked(result.stdout, cwd),
    stderr,
    out: cwd,
  };
}

async function expectSame(flags: string[], source = torrent): Promise<Outcome> {
  const fast = await outcome(flags, source, false);
  const full = await outcome(flags, source, true);
  const what = `download ${flags.join(' ')}\nfast: exit ${fast.code}\n${fast.stdout}\n${fast.stderr}\nfull: exit ${full.code}\n${full.stdout}\n${full.stderr}`;
  expect(fast.code, what).toBe(full.code);
  expect(fast.stderr, what).toBe(full.stderr);
  if (flags.includes('--events'))
    expect(eventsOf(fast.stdout), what).toEqual(eventsOf(full.stdout));
  else expect(fast.stdout, what).toBe(full.stdout);
  // Receipts hold times: 'a receipt is the same file' compares them masked.
  expect(await diffTrees(fast.out, full.out, /^\.shoal\/|^(r|receipt)\.json$/), what).toEqual([]);
  return fast;
}

const peer = () => peerArg(seeder.port);

describe('download fast path', () => {
  it('runs without starting oclif', async () => {
    // oclif's own debug lines (DEBUG=oclif:*) show whether it started.
    const env = { DEBUG: 'oclif:*' };
    const cwd = path.join(work, 'probe');
    mkdirSync(cwd);
    const fast = await runShoal(['download', torrent, '-o', 'a', '-q', ...peer()], { cwd, env });
    expect(fast.code, show(fast)).toBe(0);
    expect(fast.stderr).not.toMatch(/oclif:/);
    const full = await runShoal(['download', '-o', 'b', '-q', ...peer(), '--', torrent], {
      cwd,
      env,
    });
    expect(full.code, show(full)).toBe(0);
    expect(full.stderr).toMatch(/oclif:/);
  });

  const cases: [string, () => string[]][] = [
    ['defaults, from a peer', () => [...peer(), '-o', 'out']],
    ['--json, quiet', () => [...peer(), '--json', '-q', '--timeout', '30s']],
    [
      'the event stream of a selection',
      () => [...peer(), '--events', '--select', '0,2', '--no-dht', '--no-lsd'],
    ],
    [
      'a receipt, verification and connection flags',
      () => [
        ...peer(),
        '--out=dl',
        '--exclude',
        '*.log',
        '--verify',
        '--receipt',
        'receipt.json',
        '--encryption',
        'off',
        '--transport=tcp',
        '--max-peers',
        '3',
        '--port',
        '0',
        '--threads',
        '1',
        '--download-limit',
        '64MiB',
        '--no-web-seeds',
        '--json',
      ],
    ],
    // Errors the command reports itself, after the fast path parsed the line.
    ['a bad --peer', () => ['--peer', '127.0.0.1:']],
    ['a bad --tracker', () => ['--tracker', 'ftp://t.example/', ...peer()]],
    ['--json with --events', () => ['--json', '--events', ...peer()]],
    ['a bad digest', () => ['--expect', 'sha256:zz', ...peer()]],
    ['a file index out of range', () => ['--select', '9', ...peer()]],
    ['a bad web seed', () => ['--web-seed', 'ftp://w.example/', ...peer()]],
    ['--follow without an updatable magnet', () => ['--follow', ...peer()]],
  ];
  for (const [name, flags] of cases) {
    it(`${name}: the same as the full command`, async () => {
      await expectSame(flags());
    });
  }

  it('a receipt is the same file', async () => {
    const flags = [...peer(), '-o', 'dl', '--receipt', 'r.json', '-q'];
    const fast = await expectSame(flags);
    const receipt = readFileSync(path.join(fast.out, 'r.json'), 'utf8');
    const full = readFileSync(path.join(work, 'full', 'r.json'), 'utf8');
    expect(masked(receipt, fast.out)).toBe(masked(full, path.join(work, 'full')));
  });

  it.each([
    ['a missing torrent file', () => path.join(work, 'missing.torrent')],
    ['a file that is no torrent', () => path.join(tree, 'a.bin')],
    ['a malformed info-hash', () => 'abcdef'],
  ])('%s: the same error as the full command', async (_name, source) => {
    const fast = await expectSame(['-q'], source());
    expect(fast.code).not.toBe(0);
  });

  it('an existing receipt: refused as by the full command', async () => {
    const runs = [];
    for (const full of [false, true]) {
      const cwd = path.join(work, full ? 'full-exists' : 'fast-exists');
      rmSync(cwd, { recursive: true, force: true });
      mkdirSync(cwd);
      writeFileSync(path.join(cwd, 'r.json'), 'keep');
      const flags = ['--receipt', 'r.json', ...peer()];
      const line = full ? ['download', ...flags, '--', torrent] : ['download', torrent, ...flags];
      const result = await runShoal(line, { cwd });
      expect(readFileSync(path.join(cwd, 'r.json'), 'utf8')).toBe('keep');
      expect(existsSync(path.join(cwd, 'payload'))).toBe(false);
      runs.push({ code: result.code, stderr: result.stderr.replaceAll(cwd, '<cwd>') });
    }
    expect(runs[0]!.code).not.toBe(0);
    expect(runs[0]).toEqual(runs[1]);
  });

  it.each([
    [['--nope'], /^shoal: error: Nonexistent flag: --nope/],
    [['--constructor'], /^shoal: error: Unexpected flag /],
    [['--no-force'], /^shoal: error: Nonexistent flag: --no-force/],
    [['--port', '70000'], /^shoal: error: --port: Expected an integer less than or equal to 65535/],
    [['--timeout', '3 parsecs'], /^shoal: error: --timeout: invalid duration "3 parsecs"/],
    [['--transport', 'carrier-pigeon'], /^shoal: error: Expected --transport=carrier-pigeon/],
    [['-o', 'a', '-o', 'b'], /^shoal: error: Flag --out can only be specified once/],
    [['--seed-until', 'time>=1s', '--seed-time', '1s'], /cannot also be provided/],
  ])('leaves %j to oclif: one line, exit 2', async (flags, message) => {
    const result = await runShoal(['download', torrent, ...flags], { cwd: work });
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr, show(result)).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it("leaves a source after a multiple flag to oclif, which takes it as that flag's value", async () => {
    // oclif reads `--exclude X -q SOURCE` as two globs and no source.
    const result = await runShoal(['download', '--exclude', '*.log', '-q', torrent], { cwd: work });
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr, show(result)).toMatch(/^shoal: error: Missing 1 required arg/);
  });
});
