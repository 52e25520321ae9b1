/**
 * How `shoal inspect` prints what it found: a torrent's summary (text or
 * `--json`) and a magnet link's fields. Shared by the full command
 * (inspect.run.ts) and the fast path that runs without oclif
 * (inspect.fast.ts), so both print the same bytes.
 */
import {
  metainfoHeader,
  metainfoToJson,
  toHex,
  toMagnet,
  type Magnet,
} from '../core/metainfo/index.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import type { VerifyResult } from '../core/verify/verify-data.ts';
import { writeInspect } from '../ui/inspect-view.ts';
import type { CommandOutput } from './command-output.ts';

export interface ShowOptions {
  json: boolean;
  files: boolean;
}

/** A torrent's summary, with the result of `--verify` when there was one, written to stdout. */
export function printSummary(
  meta: Metainfo,
  verification: VerifyResult | null,
  options: ShowOptions,
  write: (text: string) => void,
): void {
  if (options.json) {
    const summary = metainfoToJson(meta);
    const doc = verification ? { ...summary, verify: verification } : summary;
    write(`${JSON.stringify(doc, null, 2)}\n`);
    return;
  }
  // Only the file list looks at the terminal; node:tty (it loads node:net) and process.stdout
  // cost a plain inspect milliseconds, so neither is touched without --files.
  const tree = options.files && process.getBuiltinModule('node:tty').isatty(1);
  // The text names files from `meta` directly: no `--json` object per file (summary.ts).
  writeInspect(
    { ...metainfoHeader(meta), files: meta.files },
    { files: options.files, tree },
    write,
  );
  if (verification) write(renderVerification(verification));
}

function renderVerification(result: VerifyResult): string {
  const lines = [
    '',
    `Verify:        ${result.goodPieces}/${result.pieceCount} pieces good in ${result.dir}`,
  ];
  for (const file of result.files) {
    if (file.status !== 'ok') lines.push(`  ${file.status.padEnd(9)} ${file.index}  ${file.path}`);
  }
  if (result.ok) lines.push('  all files match');
  return `${lines.join('\n')}\n`;
}

/** What a magnet link (or bare info-hash) says, before any metadata is fetched. */
export function printMagnet(magnet: Magnet, json: boolean, output: CommandOutput): void {
  const link = toMagnet(magnet);
  const doc = {
    name: magnet.name,
    infoHash: magnet.infoHash ? toHex(magnet.infoHash) : null,
    infoHashV2: magnet.infoHashV2 ? toHex(magnet.infoHashV2) : null,
    trackers: magnet.trackers,
    webSeeds: magnet.webSeeds,
    peers: magnet.peers.map((p) =>
      p.host.includes(':') ? `[${p.host}]:${p.port}` : `${p.host}:${p.port}`,
    ),
    selectOnly: magnet.selectOnly,
    magnet: link,
    metadata: false,
  };
  if (json) {
    output.stdout(JSON.stringify(doc, null, 2));
    return;
  }
  const rows: [string, string | null | undefined][] = [
    ['Name', doc.name ?? '(unknown until metadata is fetched)'],
    ['Info hash', doc.infoHash],
    ['Info hash v2', doc.infoHashV2],
    ...doc.trackers.map((tier, i): [string, string] => [
      i === 0 ? 'Trackers' : '',
      tier.join(', '),
    ]),
    ...doc.webSeeds.map((seed, i): [string, string] => [i === 0 ? 'Web seeds' : '', seed]),
    ...doc.peers.map((peer, i): [string, string] => [i === 0 ? 'Peers' : '', peer]),
    ['Select only', doc.selectOnly?.join(',')],
    ['Magnet', doc.magnet],
  ];
  for (const [key, value] of rows)
    if (value) output.stdout(`${(key ? `${key}:` : '').padEnd(14)} ${value}`);
}
