/**
 * `--version` and a plain `inspect` run without oclif (src/commands/inspect.fast.ts)
 * and must print exactly what the full command prints. `--quiet` changes
 * nothing a plain inspect prints but is not one of the fast path's flags, so
 * `inspect X --quiet` is the full command's answer to compare with: same
 * stdout bytes, same stderr, same exit code, for every torrent of the corpus
 * (valid and malformed), magnet links, info-hashes and missing files.
 * test/sea/sea.test.ts checks the same against the executable.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { corpusNames, corpusPath, fixturesDir } from '../helpers/fixtures.ts';
import packageJson from '../../package.json' with { type: 'json' };

trackProcesses();

const sources = [
  ...corpusNames().map(corpusPath),
  ...['v1-multi', 'v2-multi', 'v2-single', 'hybrid-multi'].map((name) =>
    path.join(fixturesDir, 'metainfo', `${name}.torrent`),
  ),
  'magnet:?xt=urn:btih:3f9aac158c7de8dfcab171ea58a17aabdf7fbc93&dn=x&tr=udp%3A%2F%2Ft.example%3A1',
  '3f9aac158c7de8dfcab171ea58a17aabdf7fbc93',
  'magnet:?xt=urn:btih:nonsense',
  path.join(fixturesDir, 'no-such.torrent'),
  fixturesDir,
];

async function fastAndFull(args: string[]) {
  const [fast, full] = await Promise.all([runShoal(args), runShoal([...args, '--quiet'])]);
  return { fast, full };
}

describe('fast path', () => {
  it('prints the version as oclif does', async () => {
    const result = await runShoal(['--version']);
    expect(result.code, show(result)).toBe(0);
    const arch = process.arch === 'ia32' ? 'x86' : process.arch;
    // The launcher's Node is the one the source runs on (the executable embeds its own).
    expect(result.stdout).toMatch(
      new RegExp(
        `^shoal/${packageJson.version.replaceAll('.', '\\.')} ${process.platform}-${arch} node-v\\d+\\.\\d+\\.\\d+\\n$`,
      ),
    );
    expect(result.stderr).toBe('');
  });

  for (const flags of [[], ['--json'], ['--files']]) {
    it(`inspect ${flags.join(' ')} prints what the full command prints`, async () => {
      for (const source of sources) {
        const { fast, full } = await fastAndFull(['inspect', source, ...flags]);
        const what = `${source} ${flags.join(' ')}\n${show(fast)}`;
        expect(fast.code, what).toBe(full.code);
        expect(fast.stdoutBytes.equals(full.stdoutBytes), what).toBe(true);
        expect(fast.stderr, what).toBe(full.stderr);
      }
    }, 300_000);
  }

  it('leaves flags it does not know to oclif', async () => {
    const unknown = await runShoal(['inspect', sources[0], '--jsn']);
    expect(unknown.code, show(unknown)).toBe(2);
    expect(unknown.stderr).toMatch(/^shoal: error: Nonexistent flag: --jsn/);
  });
});
