/**
 * Human-readable rendering of `shoal inspect`: a block of key/value lines,
 * then (with --files) the files. On a terminal they are a tree of directories
 * with sizes; elsewhere a flat list of `index size path` lines (stable for
 * scripts). Both show each file's index: its position in the torrent's file
 * list (padding files included, as BEP 53 counts them), the one
 * `download --select` takes. Padding files are not printed, so the indexes may
 * skip numbers in hybrid torrents.
 */
import type { MetainfoSummary } from '../core/metainfo/index.ts';
import { formatBytes } from './format.ts';

export interface InspectViewOptions {
  files: boolean;
  /** Draw the file list as a tree (stdout is a terminal). */
  tree?: boolean;
}

export function renderInspect(summary: MetainfoSummary, options: InspectViewOptions): string {
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
    if (options.tree) lines.push(...fileTree(summary.files));
    else {
      const width = String(summary.files.length - 1).length;
      summary.files.forEach((file, index) => {
        if (file.padding) return;
        lines.push(
          `  ${String(index).padStart(width)}  ${formatBytes(file.length).padStart(10)}  ${file.path}`,
        );
      });
    }
  }
  return `${lines.join('\n')}\n`;
}

interface TreeNode {
  name: string;
  size: number;
  /** File index for leaves; -1 for directories. */
  index: number;
  children: Map<string, TreeNode>;
}

/**
 * The files as a tree, directory sizes summed, in torrent order:
 *   [index]  size  name  (files)    size  name/  (directories)
 */
export function fileTree(
  files: readonly { path: string; length: number; padding: boolean }[],
): string[] {
  const root: TreeNode = { name: '', size: 0, index: -1, children: new Map() };
  files.forEach((file, index) => {
    if (file.padding) return;
    const parts = file.path.split('/');
    let node = root;
    node.size += file.length;
    parts.forEach((part, depth) => {
      const leaf = depth === parts.length - 1;
      const key = leaf ? `\0${index}` : part; // same-named files stay separate leaves
      let child = node.children.get(key);
      if (!child) {
        child = { name: part, size: 0, index: leaf ? index : -1, children: new Map() };
        node.children.set(key, child);
      }
      child.size += file.length;
      node = child;
    });
  });
  const indexWidth = String(Math.max(0, files.length - 1)).length + 2;
  const lines: string[] = [];
  const walk = (node: TreeNode, prefix: string) => {
    const children = [...node.children.values()];
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      const label = child.index >= 0 ? `[${child.index}]` : '';
      lines.push(
        `  ${label.padStart(indexWidth)} ${formatBytes(child.size).padStart(10)}  ${prefix}${last ? '└── ' : '├── '}${child.name}${child.index >= 0 ? '' : '/'}`,
      );
      if (child.index < 0) walk(child, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  walk(root, '');
  return lines;
}
