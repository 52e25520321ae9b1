/**
 * GitHub Actions step outputs and job summary. When the runner sets
 * GITHUB_OUTPUT, `path=`, `info-hash=` and `bytes=` are appended to that file
 * (the next step reads them as `steps.<id>.outputs.path`); when it sets
 * GITHUB_STEP_SUMMARY, a short Markdown table is appended there. Outside
 * Actions neither variable is set and nothing is written.
 */
import { appendFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { diskErrorFrom } from '../errors.ts';
import type { RunOutcome } from './outcome.ts';

/** How numbers are shown (the command passes the UI's formatters; core does not render). */
export interface NumberFormat {
  bytes(bytes: number): string;
  rate(bytesPerSecond: number): string;
}

export async function writeCiOutputs(
  outcome: RunOutcome,
  command: 'download' | 'seed',
  format: NumberFormat,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const outputFile = env.GITHUB_OUTPUT;
  if (outputFile) {
    const lines = [
      outputLine('path', outcome.path),
      outputLine('info-hash', outcome.infoHash || outcome.infoHashV2),
      outputLine('bytes', String(outcome.bytes)),
    ];
    await append(outputFile, lines.join(''));
  }
  const summaryFile = env.GITHUB_STEP_SUMMARY;
  if (summaryFile) await append(summaryFile, stepSummary(outcome, command, format));
}

/**
 * One `name=value` line, or the multi-line form with a random delimiter
 * when the value holds a line break (a path may), as GitHub documents.
 */
export function outputLine(name: string, value: string): string {
  if (!/[\r\n]/.test(value)) return `${name}=${value}\n`;
  const delimiter = `ghadelimiter_${randomBytes(8).toString('hex')}`;
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

export function stepSummary(
  outcome: RunOutcome,
  command: 'download' | 'seed',
  format: NumberFormat,
): string {
  const rate = outcome.seconds > 0 ? outcome.bytes / outcome.seconds : 0;
  const verb = command === 'download' ? 'downloaded' : 'seeded';
  const result = outcome.status === 0 ? verb : `failed (exit ${outcome.status})`;
  const cell = (text: string) => text.replace(/[|\r\n]/g, (c) => (c === '|' ? '\\|' : ' '));
  const rows: [string, string][] = [
    ['Name', outcome.name ? `\`${cell(outcome.name)}\`` : '(unknown)'],
    ['Result', result],
    ['Size', format.bytes(outcome.size)],
    [command === 'download' ? 'Received' : 'Sent', format.bytes(outcome.bytes)],
    ['Time', `${outcome.seconds.toFixed(1)} s`],
    ['Rate', format.rate(rate)],
    ['Sources', `${outcome.peers} peer${outcome.peers === 1 ? '' : 's'}`],
  ];
  if (outcome.receipt) rows.push(['Receipt', `\`${cell(outcome.receipt)}\``]);
  return [
    `### shoal ${command}`,
    '',
    '| | |',
    '|---|---|',
    ...rows.map(([key, value]) => `| ${key} | ${value} |`),
    '',
    '',
  ].join('\n');
}

async function append(path: string, text: string): Promise<void> {
  try {
    await appendFile(path, text);
  } catch (error) {
    throw diskErrorFrom(error, 'append to', path);
  }
}
