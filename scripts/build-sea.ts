/**
 * Builds dist/shoal: shoal and Node 24 in one executable file (a Node.js
 * single-executable application). Run by `npm run build` after `tsc`:
 *
 *   1. esbuild bundles five CommonJS files into dist/sea/ (Node 24 runs only
 *      a CommonJS main script in an executable, and its `require` reaches
 *      built-in modules only, so nothing may stay outside the bundles):
 *        shoal.cjs          the front: extraction and the fast paths (--version,
 *                           a plain inspect, a plain create), the executable's
 *                           main script
 *        download.cjs       the engine and a plain download without oclif, which
 *                           the front loads for a plain download
 *        cli.cjs            the whole CLI, which the front loads for anything else
 *                           (all three from src/sea/main.ts, see there why)
 *        piscina-worker.cjs piscina's thread bootstrap (its dist/worker.js)
 *        hash-worker.cjs    the hash worker (entry src/sea/hash-worker.ts)
 *   2. cli.cjs, download.cjs, the worker files, the xxhash native addon and `commands.cjs` (oclif's
 *      command target) become SEA assets, listed with their sizes and a hash
 *      over all of them in the `manifest.json` asset; at start the executable
 *      writes them once to ~/.cache/shoal/sea-<hash>/ (src/sea/assets.ts);
 *   3. `node --experimental-sea-config` turns shoal.cjs and the assets into a
 *      blob (with V8's code cache), postject injects it into a copy of the
 *      Node 24 binary, and the result is written to dist/shoal in 64 KiB
 *      writes (see rewriteInSmallWrites).
 *
 * Two places in dependencies are rewritten at bundle time (the build fails if
 * they are not found exactly, so an upgrade that moves them is noticed):
 *   - piscina starts every thread from `worker.js` next to its own file; in
 *     the bundle that path becomes the extracted piscina-worker.cjs;
 *   - `@node-rs/xxhash` loads its addon from node_modules; in the bundles every
 *     import of it becomes src/core/native/xxhash.ts's `loadXxhash()`, which
 *     opens the extracted addon with process.dlopen.
 *
 * Options: --no-code-cache; --no-strip (by default, on Linux, the Node
 * binary's symbol table is dropped before injection: about 17 MiB less, and
 * native addons still link, since the dynamic symbol table stays); --keep
 * (keep dist/sea/ for inspection, with each bundle's esbuild metafile).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import postject from 'postject';

const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** Must match COMMANDS_GLOBAL in src/sea/main.ts. */
const COMMANDS_GLOBAL_KEY = 'shoal.sea.commands';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const work = join(dist, 'sea');
const output = join(dist, process.platform === 'win32' ? 'shoal.exe' : 'shoal');
const args = new Set(process.argv.slice(2));
const useCodeCache = !args.has('--no-code-cache');
const strip = !args.has('--no-strip') && process.platform === 'linux';
const requireFromRoot = createRequire(join(root, 'package.json'));
/** The size of each write of the finished executable (see rewriteInSmallWrites). */
const SMALL_WRITE = 64 * 1024;

function step(message: string): void {
  process.stderr.write(`build-sea: ${message}\n`);
}

function fail(message: string): never {
  process.stderr.write(`build-sea: error: ${message}\n`);
  process.exit(1);
}

/** The Node 24 binary from the `node` devDependency (the one the executable embeds). */
function nodeBinary(): string {
  // On Windows node_modules/.bin holds a .cmd shim; npm scripts run the real node.exe.
  const bin =
    process.platform === 'win32' ? process.execPath : join(root, 'node_modules', '.bin', 'node');
  let real: string;
  try {
    real = realpathSync(bin);
  } catch {
    fail(`${bin} not found: run npm ci first (the node@24 devDependency provides it)`);
  }
  const version = spawnSync(real, ['--version'], { encoding: 'utf8' }).stdout.trim();
  if (!version.startsWith('v24.')) fail(`${real} is Node ${version || '?'}, expected Node 24`);
  return real;
}

// ---- esbuild plugins -------------------------------------------------------

/** Replaces `find` with `replace` in one dependency file, failing unless it occurs exactly once. */
function patchFile(name: string, filter: RegExp, find: string, replace: string): esbuild.Plugin {
  return {
    name,
    setup(build) {
      build.onLoad({ filter }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const count = source.split(find).length - 1;
        if (count !== 1)
          return {
            errors: [{ text: `${name}: expected "${find}" once in ${args.path}, found ${count}` }],
          };
        return { contents: source.replace(find, replace), loader: 'js' };
      });
    },
  };
}

const assetsModule = join(root, 'src', 'sea', 'assets.ts');
const xxhashLoader = join(root, 'src', 'core', 'native', 'xxhash.ts');

/** piscina's `resolve(__dirname, 'worker.js')` becomes the extracted bootstrap. */
const piscinaWorkerPath = patchFile(
  'piscina-worker-path',
  /[\\/]piscina[\\/]dist[\\/]index\.js$/,
  "(0, node_path_1.resolve)(__dirname, 'worker.js')",
  `require(${JSON.stringify(assetsModule)}).assetPath('piscina-worker.cjs')`,
);

/** Every `@node-rs/xxhash` import becomes the loader's result (the addon is dlopen'ed from the asset). */
const xxhashRedirect: esbuild.Plugin = {
  name: 'xxhash-redirect',
  setup(build) {
    build.onResolve({ filter: /^@node-rs\/xxhash$/ }, () => ({
      path: 'xxhash',
      namespace: 'shoal-xxhash',
    }));
    build.onLoad({ filter: /.*/, namespace: 'shoal-xxhash' }, () => ({
      contents: `module.exports = require(${JSON.stringify(xxhashLoader)}).loadXxhash();`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};

/**
 * Dependencies that code paths never taken in the executable `require` by name:
 * oclif reads tsconfig.json with typescript only when auto-transpiling, which
 * src/cli.ts turns off. They become a module that throws if it ever loads.
 */
const neverLoaded: esbuild.Plugin = {
  name: 'never-loaded',
  setup(build) {
    build.onResolve({ filter: /^typescript$/ }, (args) => ({
      path: args.path,
      namespace: 'shoal-never-loaded',
    }));
    build.onLoad({ filter: /.*/, namespace: 'shoal-never-loaded' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not part of the single executable`)});`,
      loader: 'js',
    }));
  },
};

/**
 * The front bundle stops before oclif: it loads cli.cjs for every command
 * that needs oclif, so oclif and the command classes are left out of it (code
 * the fast paths share with the commands must not import oclif: an import of
 * it from there fails at run time, in the front only). A plain download runs
 * without oclif too, but in download.cjs (src/cli.ts runPlainDownload): the
 * engine it loads would make the front, which every command starts with,
 * several times larger.
 */
const outsideFront: esbuild.Plugin = {
  name: 'outside-front',
  setup(build) {
    // download.fast.ts imports its run as './download.run.ts': the filter sees the path as written.
    build.onResolve(
      { filter: /^@oclif\/core$|[\\/]commands[\\/]index\.ts$|(^|[\\/])download\.run\.ts$/ },
      (args) => ({
        path: args.path,
        namespace: 'shoal-outside-front',
      }),
    );
    build.onLoad({ filter: /.*/, namespace: 'shoal-outside-front' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is in cli.cjs, not in the front bundle`)});`,
      loader: 'js',
    }));
  },
};

/**
 * The download bundle is the engine and a plain download's run without
 * oclif. Two imports reach oclif from the shared entry: src/cli.ts loads it
 * for the commands that need it, src/sea/main.ts the command classes; in this
 * bundle those two (and only those two) become stubs that throw, and the
 * build fails if oclif or a command class still lands in it by another way
 * (checkDownloadBundle).
 */
const outsideDownload: esbuild.Plugin = {
  name: 'outside-download',
  setup(build) {
    const cli = join(root, 'src', 'cli.ts');
    const seaMain = join(root, 'src', 'sea', 'main.ts');
    build.onResolve({ filter: /^@oclif\/core$|[\\/]commands[\\/]index\.ts$/ }, (args) =>
      args.importer === cli || args.importer === seaMain
        ? { path: args.path, namespace: 'shoal-outside-download' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'shoal-outside-download' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is in cli.cjs, not in download.cjs`)});`,
      loader: 'js',
    }));
  },
};

/** Fails the build if oclif is in the download bundle (every command class imports it too). */
function checkDownloadBundle(metafile: esbuild.Metafile): void {
  const oclif = Object.keys(metafile.inputs).find((input) => /[\\/]@oclif[\\/]/.test(input));
  if (oclif) fail(`the download bundle holds ${oclif}: oclif belongs in cli.cjs only`);
}

/**
 * Modules oclif requires when it loads but uses only on paths a typical run
 * never takes (plugin discovery by glob, help templates, spinners, pretty
 * error boxes). Evaluating them costs ~10 ms of every start, so in oclif's
 * files their top-level `require` becomes a stand-in that loads the module on
 * first use. Only these two statement shapes are rewritten; a dependency
 * upgrade that changes them just loses the saving.
 */
const DEFERRED_IN_OCLIF = [
  'tinyglobby',
  'minimatch',
  'ejs',
  'cli-spinners',
  'lilconfig',
  'clean-stack',
  'wrap-ansi',
  'indent-string',
  'string-width',
  'widest-line',
  'node:child_process',
];

const LAZY_MODULE_HELPER = `function __shoalLazy(load) {
  let loaded;
  const real = () => (loaded ??= load());
  return new Proxy({}, {
    get: (_, key) => real()[key],
    has: (_, key) => key in real(),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
`;

/**
 * oclif sorts the commands with `localeCompare` when it loads: the first
 * collation in a process makes ICU open its collation data, ~2.4 MiB of the
 * executable's pages (and ICU code) kept resident for the whole run of every
 * oclif command, a download included (docs/PERFORMANCE.md, "Download memory").
 * shoal's command ids are lower-case ASCII words, which sort the same by code
 * unit. A dependency upgrade that changes the line just loses the saving
 * (test/sea/no-collation.test.ts notices).
 */
const OCLIF_LOCALE_SORT = '.sort((a, b) => a.id.localeCompare(b.id));';
const OCLIF_CODE_UNIT_SORT = '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));';

/** Rewrites oclif's files: the deferred requires above, and its command sort (OCLIF_LOCALE_SORT). */
const deferOclifRequires: esbuild.Plugin = {
  name: 'defer-oclif-requires',
  setup(build) {
    build.onLoad({ filter: /[\\/]@oclif[\\/]core[\\/]lib[\\/].*\.js$/ }, (args) => {
      let source = readFileSync(args.path, 'utf8');
      let changed = false;
      for (const name of DEFERRED_IN_OCLIF) {
        const spec = JSON.stringify(name);
        const plain = new RegExp(`const (\\w+) = require\\(${escapeRegExp(spec)}\\);`, 'g');
        const wrapped = new RegExp(
          `const (\\w+) = __importDefault\\(require\\(${escapeRegExp(spec)}\\)\\);`,
          'g',
        );
        source = source
          .replace(plain, (_, id: string) => {
            changed = true;
            return `const ${id} = __shoalLazy(() => require(${spec}));`;
          })
          .replace(wrapped, (_, id: string) => {
            changed = true;
            return `const ${id} = { get default() { return __importDefault(require(${spec})).default; } };`;
          });
      }
      const sorted = source.replace(OCLIF_LOCALE_SORT, OCLIF_CODE_UNIT_SORT);
      if (!changed && sorted === source) return undefined;
      return { contents: `${changed ? LAZY_MODULE_HELPER : ''}${sorted}`, loader: 'js' };
    });
  },
};

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Fails the build if a bundle would `require` anything but a built-in at run time. */
function onlyBuiltins(metafile: esbuild.Metafile, allowed: string[] = []): void {
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  builtins.add('node:sea');
  for (const [file, out] of Object.entries(metafile.outputs)) {
    for (const imported of out.imports) {
      if (!imported.external || builtins.has(imported.path) || allowed.includes(imported.path))
        continue;
      // `require.resolve` only looks a name up (fdir probes for picomatch, then requires the
      // bundled copy); it never loads code from outside the bundle.
      if (imported.kind === 'require-resolve') continue;
      fail(`${relative(root, file)} would load ${imported.path} at run time; bundle it`);
    }
  }
}

async function bundle(
  entry: string,
  outfile: string,
  plugins: esbuild.Plugin[],
  external: string[] = [],
  define: Record<string, string> = {},
): Promise<esbuild.Metafile> {
  const result = await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    // Unused code paths of dependencies are left in; only whitespace is removed.
    minifyWhitespace: true,
    legalComments: 'none',
    external,
    plugins,
    metafile: true,
    logLevel: 'warning',
    // ESM sources use import.meta.url; in a CommonJS bundle it is the bundle's own file
    // (for shoal.cjs inside the executable, the executable itself).
    define: { 'import.meta.url': '__shoal_import_meta_url', ...define },
    banner: {
      js: [
        '"use strict";',
        // Inside the executable `require` reaches built-ins only; oclif loads its command
        // target (commands.cjs) from a path, so give the bundle an ordinary require.
        // Everything else is bundled (checked by onlyBuiltins).
        'require = require("node:module").createRequire(__filename);',
        'var __shoal_import_meta_url = require("node:url").pathToFileURL(__filename).href;',
      ].join('\n'),
    },
  });
  onlyBuiltins(result.metafile, external);
  // With --keep, what each bundle holds, for esbuild's analyzer (what a start-up pays for).
  if (args.has('--keep')) writeFileSync(`${outfile}.meta.json`, JSON.stringify(result.metafile));
  return result.metafile;
}

// ---- assets ----------------------------------------------------------------

/** The xxhash addon npm installed for this platform (an optional dependency of @node-rs/xxhash). */
function xxhashAddon(): string {
  const fromXxhash = createRequire(requireFromRoot.resolve('@node-rs/xxhash'));
  const base = `@node-rs/xxhash-${process.platform}-${process.arch}`;
  const candidates =
    process.platform === 'linux'
      ? [`${base}-gnu`, `${base}-musl`]
      : process.platform === 'win32'
        ? [`${base}-msvc`]
        : [base];
  for (const name of candidates) {
    try {
      const path = fromXxhash.resolve(name);
      if (path.endsWith('.node')) return path;
    } catch {
      // not installed for this platform
    }
  }
  return fail(`no @node-rs/xxhash addon installed for ${process.platform}-${process.arch}`);
}

const COMMANDS_SHIM = `// oclif's command target inside the single executable: the bundle published the module.
module.exports = globalThis[Symbol.for(${JSON.stringify(COMMANDS_GLOBAL_KEY)})];
`;

// ---- build -----------------------------------------------------------------

async function main(): Promise<void> {
  const node = nodeBinary();
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  step('bundling workers');
  await bundle(
    join(dirname(requireFromRoot.resolve('piscina')), 'worker.js'),
    join(work, 'piscina-worker.cjs'),
    [],
    // Only loaded when a pool asks for a nice level, which shoal never does.
    ['@napi-rs/nice'],
  );
  await bundle(join(root, 'src', 'sea', 'hash-worker.ts'), join(work, 'hash-worker.cjs'), [
    xxhashRedirect,
  ]);
  copyFileSync(xxhashAddon(), join(work, 'xxhash.node'));
  writeFileSync(join(work, 'commands.cjs'), COMMANDS_SHIM);

  step('bundling the CLI');
  const seaMain = join(root, 'src', 'sea', 'main.ts');
  await bundle(
    seaMain,
    join(work, 'cli.cjs'),
    [piscinaWorkerPath, xxhashRedirect, neverLoaded, deferOclifRequires],
    [],
    { SHOAL_SEA_BUNDLE: '"full"' },
  );

  step('bundling the download');
  checkDownloadBundle(
    await bundle(
      seaMain,
      join(work, 'download.cjs'),
      [piscinaWorkerPath, xxhashRedirect, neverLoaded, outsideDownload],
      [],
      { SHOAL_SEA_BUNDLE: '"download"' },
    ),
  );

  const assetNames = [
    'cli.cjs',
    'download.cjs',
    'commands.cjs',
    'hash-worker.cjs',
    'piscina-worker.cjs',
    'xxhash.node',
  ];
  const hash = createHash('sha256');
  const files = assetNames.map((name) => {
    const bytes = readFileSync(join(work, name));
    hash.update(`${name}\0${bytes.length}\0`).update(bytes);
    return { name, size: bytes.length };
  });
  const manifest = { id: hash.digest('hex').slice(0, 16), files };
  writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));

  step('bundling the front');
  // The front runs a plain create itself (commands/create.fast.ts), hash pool included.
  const front = await bundle(
    seaMain,
    join(work, 'shoal.cjs'),
    [piscinaWorkerPath, xxhashRedirect, neverLoaded, outsideFront],
    [],
    { SHOAL_SEA_BUNDLE: '"front"' },
  );
  // Every command starts with the front: a download's engine must stay out of it.
  const engine = Object.keys(front.inputs).find((input) =>
    /src[\\/]core[\\/]session[\\/]/.test(input),
  );
  if (engine)
    fail(`the front bundle holds ${engine}: the engine belongs in download.cjs and cli.cjs`);

  step(`building the SEA blob (code cache ${useCodeCache ? 'on' : 'off'})`);
  const blob = join(work, 'sea-prep.blob');
  const config = {
    main: join(work, 'shoal.cjs'),
    output: blob,
    disableExperimentalSEAWarning: true,
    useSnapshot: false,
    useCodeCache,
    // A small young generation: a download makes short-lived garbage by the
    // gigabyte (socket chunks, messages), and 2 MiB semi-spaces cost a quarter
    // less CPU and ~20 MiB less memory than V8's default on such a run (BENCHMARKS.md).
    // Two of V8's platform threads (garbage collection and compilation helpers) instead
    // of Node's four: each thread that allocates keeps a glibc malloc arena of its own,
    // and a download's peak RSS was 2-4 MiB lower at the same CPU time and speed
    // (docs/PERFORMANCE.md, "Download memory (2026-12-07)"). --v8-pool-size is Node's
    // option, not V8's, so the code cache stays valid.
    execArgv: ['--max-semi-space-size=2', '--v8-pool-size=2'],
    assets: Object.fromEntries(
      [...assetNames, 'manifest.json'].map((name) => [name, join(work, name)]),
    ),
  };
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify(config, null, 2));
  const made = spawnSync(node, ['--experimental-sea-config', join(work, 'sea-config.json')], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (made.status !== 0) fail('node --experimental-sea-config failed');

  step('injecting into a copy of the Node 24 binary');
  const temp = `${output}.tmp-${process.pid}`;
  copyFileSync(node, temp);
  chmodSync(temp, 0o755);
  // Symbols only name frames in native crash reports; the dynamic symbol table that
  // native addons link against (napi_*) stays.
  if (strip) {
    if (spawnSync('strip', ['--version']).status === 0) run('strip', ['--strip-all', temp]);
    else step('strip not found: the executable keeps its symbol table (binutils provides strip)');
  }
  if (process.platform === 'darwin') run('codesign', ['--remove-signature', temp]);
  await quietLief(() =>
    postject.inject(temp, 'NODE_SEA_BLOB', readFileSync(blob), {
      sentinelFuse: SENTINEL_FUSE,
      machoSegmentName: process.platform === 'darwin' ? 'NODE_SEA' : undefined,
      overwrite: true,
    }),
  );
  if (process.platform === 'darwin') run('codesign', ['--sign', '-', temp]);
  rewriteInSmallWrites(temp, output);
  if (!args.has('--keep')) rmSync(work, { recursive: true, force: true });

  const check = spawnSync(output, ['--version'], { encoding: 'utf8', cwd: dist });
  if (check.status !== 0 || check.stderr !== '')
    fail(`${output} --version failed (exit ${check.status}):\n${check.stdout}${check.stderr}`);
  const mib = (statSync(output).size / 1024 / 1024).toFixed(1);
  step(`wrote ${relative(root, output)} (${mib} MiB): ${check.stdout.trim()}`);
}

/**
 * Puts the executable at `to` with writes of 64 KiB, as `cp`, an installer or
 * a download would. On Linux 6.16+ ext4 (and XFS) keep a file in the page
 * cache in folios as large as the writes that made them (postject writes the
 * whole file at once), and a page fault maps the whole folio: run from such a
 * file, `--version` peaked at 65 MiB against 45 MiB from a copy made by `cp`,
 * a download 12-16 MiB higher. cp, installers and downloads write in small
 * pieces, and a file read back from disk comes in small folios, so that is
 * what users run; the build's own file must show the same (docs/PERFORMANCE.md,
 * "Download memory (2026-12-07)").
 */
function rewriteInSmallWrites(from: string, to: string): void {
  const bytes = readFileSync(from);
  const staging = `${to}.tmp-small-${process.pid}`;
  const fd = openSync(staging, 'w', 0o755);
  try {
    for (let offset = 0; offset < bytes.length; offset += SMALL_WRITE)
      writeSync(fd, bytes, offset, Math.min(SMALL_WRITE, bytes.length - offset));
  } finally {
    closeSync(fd);
  }
  chmodSync(staging, 0o755);
  renameSync(staging, to);
  rmSync(from, { force: true });
}

/**
 * postject's LIEF warns once per ELF note section it cannot name (Node's
 * binary has many); they are harmless and would bury real messages.
 */
async function quietLief(inject: () => Promise<void>): Promise<void> {
  const warn = console.warn;
  console.warn = (...parts: unknown[]) => {
    if (!/Can't find string offset for section name/.test(String(parts[0]))) warn(...parts);
  };
  try {
    await inject();
  } finally {
    console.warn = warn;
  }
}

function run(command: string, commandArgs: string[]): void {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit' });
  if (result.status !== 0) fail(`${command} ${commandArgs.join(' ')} failed`);
}

await main();
