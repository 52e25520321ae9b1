/**
 * `npm test`: the README's test command, and exactly what CI runs.
 *
 * 1. Makes sure the real peers the interop tests drive are installed
 *    (scripts/install-test-peers.sh: apt-get as root, else one line saying
 *    what to install, and a failure).
 * 2. With no arguments (the whole suite): type check, lint, and build the
 *    single executable, so that the same vitest run tests the TypeScript
 *    source and, again, the shipped `dist/shoal` (vitest.config.ts, project
 *    "binary"). With arguments (`npm test -- test/core/wire`), only vitest
 *    runs, on the source (or on SHOAL_BIN when the caller sets it).
 * 3. Ends with the totals on a line of their own, `N passed, N failed`, read
 *    from vitest's JSON report, so a run that tested nothing can never pass
 *    for one that did. A failed step before the tests counts as one failure;
 *    a skipped test fails the run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const vitestArgs = process.argv.slice(2);
const wholeSuite = vitestArgs.length === 0;

/** Runs one step with its output on our stdout/stderr; true when it exited 0. */
function step(label: string, command: string, args: string[], env = process.env): boolean {
  console.error(`\n> ${label}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  return result.status === 0;
}

/** Prints the totals line and exits; a skipped test fails the run (it proved nothing). */
function finish(passed: number, failed: number, skipped = 0): never {
  if (skipped > 0) console.error(`\nnpm test: ${skipped} skipped tests: the suite allows none`);
  console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed === 0 && skipped === 0 && passed > 0 ? 0 : 1);
}

const env = { ...process.env };
const setup: [string, string, string[]][] = [
  ['real peers for the interop tests', 'sh', ['scripts/install-test-peers.sh']],
];
if (wholeSuite) {
  setup.push(
    ['type check', 'npm', ['run', '--silent', 'typecheck']],
    ['lint', 'npm', ['run', '--silent', 'lint']],
    ['build dist/shoal', 'npm', ['run', '--silent', 'build']],
  );
  env.SHOAL_BIN = join(root, 'dist', 'shoal');
}
for (const [label, command, args] of setup) {
  if (!step(label, command, args)) {
    console.error(`\nnpm test: ${label} failed; no tests were run`);
    finish(0, 1);
  }
}

const reportDir = mkdtempSync(join(tmpdir(), 'shoal-test-report-'));
const reportFile = join(reportDir, 'report.json');
const vitest = spawnSync(
  'vitest',
  [
    'run',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${reportFile}`,
    ...vitestArgs,
  ],
  { cwd: root, stdio: 'inherit', env },
);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    testResults: { status: string; assertionResults: { status: string }[] }[];
  };
  passed = report.numPassedTests;
  // A file that failed to load has no failed assertions but is a failure all the same.
  const brokenFiles = report.testResults.filter(
    (file) =>
      file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
  ).length;
  failed = report.numFailedTests + brokenFiles;
  skipped = report.numPendingTests + report.numTodoTests;
} catch {
  failed += 1; // no report means vitest itself broke
}
rmSync(reportDir, { recursive: true, force: true });
if (vitest.status !== 0 && failed === 0) failed = 1; // vitest failed in a way the report missed
finish(passed, failed, skipped);
