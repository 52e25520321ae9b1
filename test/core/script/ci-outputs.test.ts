import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputLine, writeCiOutputs } from '../../../src/core/script/ci-outputs.ts';
import type { RunOutcome } from '../../../src/core/script/outcome.ts';
import { formatBytes, formatRate } from '../../../src/ui/format.ts';
import { cleanupTempDirs, listFiles, tempDir } from '../../helpers/files.ts';

cleanupTempDirs();

const outcome: RunOutcome = {
  status: 0,
  name: 'release|1',
  infoHash: 'ab'.repeat(20),
  infoHashV2: '',
  out: '/data',
  path: '/data/release|1',
  bytes: 2048,
  size: 4096,
  seconds: 2,
  peers: 3,
  receipt: null,
};
const format = { bytes: formatBytes, rate: formatRate };

describe('writeCiOutputs', () => {
  it('appends step outputs and a Markdown summary to the files GitHub names', async () => {
    const dir = tempDir('shoal-ci-');
    const output = path.join(dir, 'output');
    const summary = path.join(dir, 'summary');
    await writeFile(output, 'earlier=1\n');
    await writeCiOutputs(outcome, 'download', format, {
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
    });
    expect(await readFile(output, 'utf8')).toBe(
      `earlier=1\npath=/data/release|1\ninfo-hash=${'ab'.repeat(20)}\nbytes=2048\n`,
    );
    const markdown = await readFile(summary, 'utf8');
    expect(markdown).toContain('### shoal download');
    expect(markdown).toContain('| Name | `release\\|1` |');
    expect(markdown).toContain('| Rate | 1.00 KiB/s |');
    expect(markdown).toContain('| Sources | 3 peers |');
  });

  it('writes nothing when the variables are not set (or empty)', async () => {
    const dir = tempDir('shoal-ci-');
    await writeCiOutputs(outcome, 'download', format, { GITHUB_OUTPUT: '', HOME: dir });
    expect(await listFiles(dir)).toEqual([]);
  });

  it('a value with a line break uses the delimiter form', () => {
    expect(outputLine('path', '/a\nb')).toMatch(
      /^path<<(ghadelimiter_[0-9a-f]{16})\n\/a\nb\n\1\n$/,
    );
  });
});
