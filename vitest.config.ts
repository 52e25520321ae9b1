import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Two projects, one run, one total:
 * - `source`: every test, with shoal started from the TypeScript source
 *   (SHOAL_BIN cleared, see test/helpers/cli.ts).
 * - `binary`: the end-to-end suite again plus test/sea/sea.test.ts, against
 *   the single executable named by SHOAL_BIN when the run starts (CI builds
 *   dist/shoal first). shoal is started through test/sea/without-node.sh, so
 *   no Node.js is reachable from it. Without SHOAL_BIN only sea.test.ts runs
 *   here, and only under CI, where it fails to say the binary went untested.
 */
const exe = process.env.SHOAL_BIN ? resolve(process.env.SHOAL_BIN) : '';
const seaSuite = 'test/sea/sea.test.ts';
// The create and download fast paths against the full command, run again inside the executable.
const seaCreate = 'test/sea/create-fast-path.test.ts';
const seaDownload = 'test/sea/download-fast-path.test.ts';
// Which bundle each download path loads: only the executable has bundles, so only `binary` runs it.
const seaBundles = 'test/sea/download-bundle.test.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // No retries: a test that fails now and then is a bug in the test or in shoal.
    // Per-user state and cache go to a temporary folder of the run, not to $HOME.
    globalSetup: ['test/helpers/global-setup.ts'],
    // Network and CLI tests start real processes; two cores means two forks at most.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'source',
          include: ['test/**/*.test.ts'],
          exclude: [seaSuite, seaBundles],
          env: { SHOAL_BIN: '', SHOAL_EXE: '' },
        },
      },
      {
        extends: true,
        test: {
          name: 'binary',
          // Without an executable: in CI the SEA suite runs and fails (the binary went untested);
          // locally nothing runs here, so there is nothing to skip.
          include: exe
            ? ['test/e2e/**/*.test.ts', seaSuite, seaCreate, seaDownload, seaBundles]
            : process.env.CI
              ? [seaSuite]
              : [],
          env: exe
            ? {
                SHOAL_BIN: fileURLToPath(new URL('./test/sea/without-node.sh', import.meta.url)),
                SHOAL_EXE: exe,
              }
            : { SHOAL_BIN: '', SHOAL_EXE: '' },
        },
      },
    ],
  },
});
