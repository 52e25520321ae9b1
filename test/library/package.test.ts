/**
 * shoal as an installed package: `npm pack` (its prepack compiles build/ with
 * declarations), the tarball unpacked into a consumer's node_modules as npm
 * would place it, then (1) the library example, importing from 'shoal'
 * instead of the source, runs under Node 24 and fetches a file; (2) `tsc`
 * type-checks a consumer file against the package's `exports` types, and a
 * consumer that misuses the API is refused (so the types are really read).
 *
 * Offline on purpose: the package's dependencies are this repository's
 * node_modules (a symlink in the unpacked package), not a registry download.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { repoRoot, spawnTracked, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 300_000 });

const NODE = path.join(repoRoot, 'node_modules', '.bin', 'node');
const TSC = path.join(repoRoot, 'node_modules', '.bin', 'tsc');

/** Packs the repository and unpacks the tarball as `consumer/node_modules/shoal`. */
async function installPacked(consumer: string): Promise<{ files: string[] }> {
  const packs = tempDir('shoal-pack-');
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', packs], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
    // npm runs prepack's tsc with node_modules/.bin first on PATH, as `npm run` does.
    env: {
      ...process.env,
      PATH: `${path.join(repoRoot, 'node_modules', '.bin')}:${process.env.PATH}`,
    },
  });
  // npm prints the prepack script's output before the JSON.
  const [pack] = JSON.parse(out.slice(out.indexOf('\n[') + 1)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const modules = path.join(consumer, 'node_modules');
  await mkdir(modules, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(packs, pack.filename), '-C', modules]);
  await rename(path.join(modules, 'package'), path.join(modules, 'shoal'));
  await symlink(path.join(repoRoot, 'node_modules'), path.join(modules, 'shoal', 'node_modules'));
  return { files: pack.files.map((f) => f.path) };
}

/** `tsc -p` on a consumer config (written next to the consumer's files); its exit code and output. */
async function runTsc(consumer: string, file: string): Promise<{ code: number; output: string }> {
  const config = path.join(consumer, `tsconfig.${path.basename(file, '.ts')}.json`);
  await writeFile(
    config,
    JSON.stringify({
      compilerOptions: {
        target: 'ES2024',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noEmit: true,
        allowImportingTsExtensions: true,
        types: ['node'],
        typeRoots: [path.join(repoRoot, 'node_modules', '@types')],
      },
      files: [file],
    }),
  );
  try {
    const output = execFileSync(TSC, ['-p', config], { encoding: 'utf8', timeout: 120_000 });
    return { code: 0, output };
  } catch (error) {
    const failed = error as { status: number; stdout: string };
    return { code: failed.status, output: failed.stdout };
  }
}

describe('shoal as an installed package', () => {
  it('packs with types; the example runs from it; a consumer type-checks against it', async () => {
    const consumer = tempDir('shoal-consumer-');
    await writeFile(path.join(consumer, 'package.json'), '{"type":"module","private":true}\n');
    const { files } = await installPacked(consumer);
    expect(files).toContain('build/index.js');
    expect(files).toContain('build/index.d.ts');

    // The repository's example, as a user of the package writes it.
    const example = (
      await readFile(path.join(repoRoot, 'examples', 'share-and-fetch.ts'), 'utf8')
    ).replace("from '../src/index.ts'", "from 'shoal'");
    expect(example).toMatch(/from 'shoal'/);
    await writeFile(path.join(consumer, 'share-and-fetch.ts'), example);
    const source = tempDir('shoal-consumer-src-');
    const file = path.join(source, 'payload.bin');
    await writeFile(file, randomBytes(700_000));
    const out = path.join(consumer, 'out');
    const run = spawnTracked('example from the package', NODE, ['share-and-fetch.ts', file, out], {
      cwd: consumer,
      timeoutMs: 120_000,
      env: { XDG_CACHE_HOME: tempDir('shoal-consumer-cache-') },
    });
    const result = await run.wait(120_000);
    expect(result.code, run.describe()).toBe(0);
    expect(result.stdout).toMatch(/verified: ok/);
    expect(await sameFile(file, path.join(out, 'payload.bin'))).toBe(true);

    // The example itself type-checks against the packed declarations...
    const good = await runTsc(consumer, 'share-and-fetch.ts');
    expect(good.code, good.output).toBe(0);
    // ...and so does the design's name for the client; a misuse is refused.
    await writeFile(
      path.join(consumer, 'names.ts'),
      [
        "import { Client, ShoalClient, inspectTorrent, type TorrentInfo } from 'shoal';",
        'const same: typeof ShoalClient = Client;',
        'const info: (id: number) => TorrentInfo = (await Client.open({ downloadDir: "." })).info;',
        'const doc = await inspectTorrent(new Uint8Array());',
        'export const name: string = doc.name;',
        'export { same, info };',
        '',
      ].join('\n'),
    );
    const names = await runTsc(consumer, 'names.ts');
    expect(names.code, names.output).toBe(0);
    await writeFile(
      path.join(consumer, 'misuse.ts'),
      "import { inspectTorrent } from 'shoal';\nexport const n: number = await inspectTorrent('x.torrent');\n",
    );
    const misuse = await runTsc(consumer, 'misuse.ts');
    expect(misuse.code, misuse.output).not.toBe(0);
    expect(misuse.output).toMatch(/misuse\.ts.*TS2322/);
  });
});
