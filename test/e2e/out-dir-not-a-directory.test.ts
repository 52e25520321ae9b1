/**
 * A download (or seed) told to use a directory that is a regular file: the
 * one-line error and its exit code (5) must be all it prints, on the fast
 * path and on the full command alike, with no existing-data check or
 * progress line before it (the view used to start before the session found
 * the file), and the file left as it was. Runs on the source and, in the
 * `binary` project, on the executable, whose plain download is its own bundle.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';

trackProcesses({ concurrent: true });
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });
cleanupTempDirs();

let work: string;
let torrent: string;
let file: string;
// No network: the run must end on the output path alone.
const offline = ['--no-dht', '--no-lsd'];

beforeAll(async () => {
  work = tempDir('shoal-out-file-');
  await makeTree(work, [{ path: 'payload.bin', size: 100_000 }]);
  torrent = path.join(work, 'payload.torrent');
  const created = await runShoal(['create', 'payload.bin', '-o', torrent, '--no-date', '-q'], {
    cwd: work,
  });
  expect(created.code, show(created)).toBe(0);
  file = path.join(work, 'a-file');
  writeFileSync(file, 'not a directory');
});

describe('an output directory that is a file', () => {
  it.each([
    ['the fast path', () => ['download', torrent, '-o', file, ...offline]],
    ['the full command', () => ['download', '-o', file, ...offline, '--', torrent]],
    ['seed --data', () => ['seed', torrent, '--data', file, ...offline]],
  ])('%s prints the one-line error and nothing else, exit 5', async (_name, args) => {
    const result = await runShoal(args(), { cwd: work });
    expect(result.code, show(result)).toBe(5);
    expect(result.stderr, show(result)).toBe(`shoal: error: ${file} is not a directory\n`);
    expect(result.stdout, show(result)).toBe('');
    expect(readFileSync(file, 'utf8')).toBe('not a directory');
  });

  it('a download below such a file says which file is in the way', async () => {
    const out = path.join(file, 'sub');
    const result = await runShoal(['download', torrent, '-o', out, ...offline], { cwd: work });
    expect(result.code, show(result)).toBe(5);
    expect(result.stderr, show(result)).toBe(`shoal: error: ${out}: ${file} is not a directory\n`);
    expect(result.stdout, show(result)).toBe('');
  });

  it('with --events: the start event, then the error', async () => {
    const result = await runShoal(['download', torrent, '-o', file, '--events', ...offline], {
      cwd: work,
    });
    expect(result.code, show(result)).toBe(5);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; code?: number });
    expect(
      events.map((event) => event.type),
      show(result),
    ).toEqual(['start', 'error']);
    expect(events[1]!.code).toBe(5);
  });
});
