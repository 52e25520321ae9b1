/**
 * The single executable (dist/shoal, `npm run build`) on its own: version and
 * help, the hash pool's workers, reuse of its extracted runtime files, and a
 * clear error when it cannot write them. Builds nothing: it tests the file
 * named by SHOAL_EXE (set by vitest.config.ts's `binary` project) or
 * SHOAL_BIN. Every run starts from a directory outside the repository with a
 * PATH that holds no program at all, so no Node.js can help it along.
 *
 * Without an executable the suite fails under CI (the binary would otherwise
 * ship untested); elsewhere vitest.config.ts does not include it at all.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { corpusNames, corpusPath } from '../helpers/fixtures.ts';
import packageJson from '../../package.json' with { type: 'json' };

const exe = process.env.SHOAL_EXE || process.env.SHOAL_BIN || '';
const isRoot = process.getuid?.() === 0;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the executable with nothing inherited but what `env` names (bounded, killed on timeout). */
function run(
  args: string[],
  options: { cwd: string; env: Record<string, string>; file?: string },
): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      path.resolve(options.file ?? exe),
      args,
      { cwd: options.cwd, env: options.env, timeout: 60_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function show(result: Result): string {
  return `exit ${result.code}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** A scratch directory outside the repository, with an empty PATH and its own HOME and cache. */
function sandbox(): { cwd: string; cache: string; env: Record<string, string> } {
  const cwd = tempDir('shoal-sea-');
  const emptyBin = path.join(cwd, '.empty-bin');
  const home = path.join(cwd, '.home');
  const cache = path.join(cwd, '.cache');
  mkdirSync(emptyBin);
  mkdirSync(home);
  return { cwd, cache, env: { PATH: emptyBin, HOME: home, XDG_CACHE_HOME: cache, NO_COLOR: '1' } };
}

/**
 * `box`'s environment with a preload of `source` (NODE_OPTIONS, which the
 * executable honours): how the tests look inside the running executable.
 */
function withPreload(
  box: { cwd: string; env: Record<string, string> },
  name: string,
  source: string,
): Record<string, string> {
  const probe = path.join(box.cwd, name);
  writeFileSync(probe, source);
  return { ...box.env, NODE_OPTIONS: `--require ${probe}` };
}

/** Every extracted file under `<cache>/shoal`, with what identifies one write of it. */
function snapshot(cache: string): Record<string, string> {
  const root = path.join(cache, 'shoal');
  const out: Record<string, string> = {};
  for (const dir of readdirSync(root)) {
    out[dir] = 'dir';
    if (!statSync(path.join(root, dir)).isDirectory()) continue;
    for (const file of readdirSync(path.join(root, dir))) {
      const stat = statSync(path.join(root, dir, file));
      out[`${dir}/${file}`] = `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
    }
  }
  return out;
}

if (!exe) {
  // Only included without SHOAL_BIN under CI (vitest.config.ts): a binary that went untested.
  it('has an executable to test', () => {
    expect.fail(
      'SHOAL_BIN is not set: CI must run `npm run build` and export SHOAL_BIN=$PWD/dist/shoal',
    );
  });
} else {
  describe('single executable', () => {
    cleanupTempDirs();

    it('prints its version and the Node version it embeds, and nothing on stderr', async () => {
      const box = sandbox();
      const result = await run(['--version'], box);
      expect(result.code, show(result)).toBe(0);
      expect(result.stdout).toMatch(
        new RegExp(
          `^shoal/${packageJson.version.replaceAll('.', '\\.')} \\S+ node-v24\\.\\d+\\.\\d+\\n$`,
        ),
      );
      // No ExperimentalWarning (or any other) about single executables.
      expect(result.stderr).toBe('');
    });

    it('prints from its fast path (plain inspect) exactly what the full command prints', async () => {
      // `--quiet` is not a fast-path flag: with it the front bundle hands over to cli.cjs and oclif.
      const box = sandbox();
      for (const name of corpusNames()) {
        for (const flags of [[], ['--json']]) {
          const args = ['inspect', corpusPath(name), ...flags];
          const [fast, full] = await Promise.all([run(args, box), run([...args, '--quiet'], box)]);
          expect(fast.code, `${name}\n${show(fast)}`).toBe(full.code);
          expect(fast.stdout, name).toBe(full.stdout);
          expect(fast.stderr, name).toBe(full.stderr);
        }
      }
    }, 300_000);

    it('shows help listing every command', async () => {
      const box = sandbox();
      const result = await run(['--help'], box);
      expect(result.code, show(result)).toBe(0);
      for (const command of ['create', 'download', 'inspect', 'seed'])
        expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\s`, 'm'));
      expect(result.stderr).toBe('');
      const sub = await run(['create', '--help'], box);
      expect(sub.code, show(sub)).toBe(0);
      expect(sub.stdout).toContain('--piece-length');
    });

    it('runs oclif commands without collating strings (ICU collation data stays off its pages)', async () => {
      // A preload (NODE_OPTIONS, which the executable honours) records every collation the
      // main thread asks for; build-sea.ts rewrites oclif's command sort to do without.
      const box = sandbox();
      const record = path.join(box.cwd, 'collations.txt');
      const env = withPreload(
        box,
        'collation-probe.cjs',
        `const { isMainThread } = require('node:worker_threads');
const calls = [];
const localeCompare = String.prototype.localeCompare;
String.prototype.localeCompare = function (...args) { calls.push('localeCompare'); return localeCompare.apply(this, args); };
const Collator = Intl.Collator;
Intl.Collator = function (...args) { calls.push('Intl.Collator'); return new Collator(...args); };
if (isMainThread) process.on('exit', () => require('node:fs').appendFileSync(${JSON.stringify(record)}, calls.join('\\n') + '\\n'));
`,
      );
      const commands = [
        ['download', 'no-such.torrent', '-o', 'out', '--quiet'],
        ['inspect', corpusPath(corpusNames()[0]!), '--quiet'],
        ['--help'],
      ];
      let help = '';
      for (const args of commands) {
        const result = await run(args, { ...box, env });
        if (args[0] === '--help') help = result.stdout;
        expect(result.stderr, show(result)).not.toMatch(/collation-probe|Cannot find module/);
      }
      expect(readFileSync(record, 'utf8').trim()).toBe('');
      // The commands are still listed in order.
      const listed = [...help.matchAll(/^ {2}([a-z]+)\s/gm)].map((m) => m[1]);
      expect(listed.length, help).toBeGreaterThan(4);
      expect(listed).toEqual([...listed].sort());
    });

    it('maps no more of its own file at run time than a copy made with cp does', async () => {
      // How a file was written decides how many of its pages one page fault maps (ext4 keeps
      // it in page-cache folios as large as the writes that made it): build-sea.ts writes the
      // executable in 64 KiB writes, as a copy or an installer would, so that what the build
      // shows is what users get. A preload sums the resident kB of its own mappings at exit.
      const box = sandbox();
      const copy = path.join(box.cwd, 'shoal-copy');
      copyFileSync(exe, copy);
      chmodSync(copy, 0o755);
      const record = path.join(box.cwd, 'resident.txt');
      const env = withPreload(
        box,
        'resident-probe.cjs',
        `process.on('exit', () => {
  const fs = require('node:fs');
  const self = fs.realpathSync(process.execPath);
  let mine = false, kB = 0;
  for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \\S+ \\S+ \\S+ \\S+\\s*(.*)$/.exec(line);
    if (mapping) mine = mapping[1] === self;
    else if (mine && line.startsWith('Rss:')) kB += Number(line.split(/\\s+/)[1]);
  }
  fs.writeFileSync(${JSON.stringify(record)}, String(kB));
});
`,
      );
      const residentKiB = async (file: string) => {
        const result = await run(['--version'], { ...box, env, file });
        expect(result.code, show(result)).toBe(0);
        return Number(readFileSync(record, 'utf8'));
      };
      await residentKiB(copy); // the first run writes the runtime files, which touches more code
      const built = await residentKiB(exe);
      const copied = await residentKiB(copy);
      // --version makes ~30 MiB of the executable resident; the build's one-write file made ~20 MiB more.
      expect(copied).toBeGreaterThan(10 * 1024);
      expect(built).toBeLessThan(copied + 4 * 1024);
    });

    it("starts two of V8's platform threads, not Node's default four", async () => {
      // build-sea.ts's execArgv sets --v8-pool-size=2: each thread keeps a malloc arena of
      // its own. A preload names the threads.
      const box = sandbox();
      const record = path.join(box.cwd, 'threads.txt');
      const env = withPreload(
        box,
        'thread-probe.cjs',
        `process.on('exit', () => {
  const fs = require('node:fs');
  const names = fs.readdirSync('/proc/self/task').map((id) => fs.readFileSync('/proc/self/task/' + id + '/comm', 'utf8').trim());
  fs.writeFileSync(${JSON.stringify(record)}, names.join('\\n'));
});
`,
      );
      const result = await run(['--version'], { ...box, env });
      expect(result.code, show(result)).toBe(0);
      const names = readFileSync(record, 'utf8').split('\n');
      expect(names, names.join(',')).toContain('MainThread');
      expect(
        names.filter((name) => name === 'V8Worker'),
        names.join(','),
      ).toHaveLength(2);
    });

    it('creates a hybrid torrent on its worker pool and verifies the data with it', async () => {
      const box = sandbox();
      const data = path.join(box.cwd, 'payload');
      mkdirSync(path.join(data, 'sub'), { recursive: true });
      writeFileSync(path.join(data, 'a.bin'), randomBytes(700_000));
      writeFileSync(path.join(data, 'sub', 'b.bin'), randomBytes(50_001));
      const created = await run(
        [
          'create',
          'payload',
          '-o',
          'p.torrent',
          '--hybrid',
          '--piece-length',
          '16KiB',
          '--threads',
          '2',
          '--json',
        ],
        box,
      );
      expect(created.code, show(created)).toBe(0);
      const summary = JSON.parse(created.stdout) as { infoHash: string; infoHashV2: string };
      expect(summary.infoHash).toMatch(/^[0-9a-f]{40}$/);
      expect(summary.infoHashV2).toMatch(/^[0-9a-f]{64}$/);

      const verified = await run(['inspect', 'p.torrent', '--verify', box.cwd, '--json'], box);
      expect(verified.code, show(verified)).toBe(0);
      expect((JSON.parse(verified.stdout) as { infoHash: string }).infoHash).toBe(summary.infoHash);

      const file = path.join(data, 'a.bin');
      const bytes = readFileSync(file);
      bytes[123_456] ^= 0xff;
      writeFileSync(file, bytes);
      const damaged = await run(['inspect', 'p.torrent', '--verify', box.cwd], box);
      expect(damaged.code, show(damaged)).toBe(6);
    });

    it('extracts its runtime files once and reuses them on the next run', async () => {
      const box = sandbox();
      const first = await run(['--version'], box);
      expect(first.code, show(first)).toBe(0);
      const before = snapshot(box.cache);
      const dirs = Object.keys(before).filter((key) => before[key] === 'dir');
      expect(dirs).toHaveLength(1);
      expect(dirs[0]).toMatch(/^sea-[0-9a-f]{16}$/);
      expect(Object.keys(before)).toEqual(
        expect.arrayContaining([`${dirs[0]}/hash-worker.cjs`, `${dirs[0]}/xxhash.node`]),
      );
      expect(statSync(path.join(box.cache, 'shoal')).mode & 0o077).toBe(0);

      const second = await run(['--version'], box);
      expect(second.code, show(second)).toBe(0);
      expect(snapshot(box.cache)).toEqual(before);
    });

    it('repairs a damaged extraction and survives several first runs at once', async () => {
      const box = sandbox();
      const runs = await Promise.all([1, 2, 3, 4].map(() => run(['--version'], box)));
      for (const result of runs) expect(result.code, show(result)).toBe(0);
      const entries = readdirSync(path.join(box.cache, 'shoal'));
      expect(entries.filter((name) => name.startsWith('sea-'))).toHaveLength(1);
      // Staging directories are renamed into place or removed: none is left behind.
      expect(entries.filter((name) => name.startsWith('.sea-'))).toEqual([]);

      const dir = path.join(
        box.cache,
        'shoal',
        entries.find((name) => name.startsWith('sea-'))!,
      );
      const addon = path.join(dir, 'xxhash.node');
      const digest = createHash('sha256').update(readFileSync(addon)).digest('hex');
      writeFileSync(addon, 'truncated');
      const repaired = await run(['create', dir, '-o', path.join(box.cwd, 'x.torrent')], box);
      expect(repaired.code, show(repaired)).toBe(0);
      expect(createHash('sha256').update(readFileSync(addon)).digest('hex')).toBe(digest);
    });

    it('fails with one clear line and exit 5 when its cache directory cannot be created', async () => {
      const box = sandbox();
      const blocker = path.join(box.cwd, 'not-a-directory');
      writeFileSync(blocker, '');
      const result = await run(['--version'], {
        ...box,
        env: { ...box.env, XDG_CACHE_HOME: path.join(blocker, 'cache') },
      });
      expect(result.code, show(result)).toBe(5);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/^shoal: error: cannot write .*XDG_CACHE_HOME[^\n]*\n$/);
    });

    it('fails with one clear line and exit 5 when its cache directory is read-only', async () => {
      const box = sandbox();
      mkdirSync(box.cache);
      // Root ignores file modes, so as root (CI) the directory is a read-only tmpfs instead.
      if (isRoot) execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', box.cache]);
      else chmodSync(box.cache, 0o555);
      try {
        const result = await run(['--version'], box);
        expect(result.code, show(result)).toBe(5);
        expect(result.stderr).toMatch(
          /^shoal: error: cannot write .*(permission denied|read-only file system).*\n$/,
        );
      } finally {
        if (isRoot) execFileSync('umount', ['-l', box.cache]);
        else chmodSync(box.cache, 0o755);
      }
    });
  });
}
