/**
 * Human-readable rendering of `shoal inspect`: a block of key/value lines,
 * then (with --files) the file list with index, size and path. Indexes are
 * positions in the torrent's file list (padding files included, as BEP 53
 * counts them), the ones `download --select` takes; padding files themselves
 * are not printed, so the indexes may skip numbers in hybrid torrents.
 */
import type { MetainfoSummary } from '../core/metainfo/index.ts';
import { formatBytes } from './format.ts';

export function renderInspect(summary: MetainfoSummary, options: { files: boolean }): string {
  const lines: string[] = [];
  const row = (key: string, value: string | number | null | undefined) => {
    if (value === null || value === undefined || value === '') return;
    lines.push(`${(key ? `${key}:` : '').padEnd(14)} ${value}`);
  };
  const realFiles = summary.files.filter((file) => !file.padding);
  row('Name', summary.name);
  row('Info hash', summary.infoHash ?? undefined);
  row('Info hash v2', summary.infoHashV2 ?? undefined);
  row('Version', summary.version);
  row(
    'Size',
    `${formatBytes(summary.totalSize)} (${summary.totalSize} bytes) in ${realFiles.length} file${realFiles.length === 1 ? '' : 's'}`,
  );
  row('Pieces', `${summary.pieceCount} x ${formatBytes(summary.pieceLength)}`);
  row('Private', summary.private ? 'yes' : 'no');
  summary.trackers.forEach((tier, index) => row(index === 0 ? 'Trackers' : '', tier.join(', ')));
  summary.webSeeds.forEach((seed, index) => row(index === 0 ? 'Web seeds' : '', seed));
  row('Comment', summary.comment);
  row('Created by', summary.createdBy);
  row('Created', summary.creationDate);
  row('Source', summary.source);
  row('Magnet', summary.magnet);
  if (options.files) {
    lines.push('', 'Files:');
    const width = String(summary.files.length - 1).length;
    summary.files.forEach((file, index) => {
      if (file.padding) return;
      lines.push(
        `  ${String(index).padStart(width)}  ${formatBytes(file.length).padStart(10)}  ${file.path}`,
      );
    });
  }
  return `${lines.join('\n')}\n`;
}
