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

/**
 * What the view needs of a file. `path` is the `--json` text or the torrent's own components
 * (`TorrentFile.path`): the view joins those itself, so a caller need not make a string per file.
 */
export interface InspectFile {
  path: string | readonly string[];
  length: number;
  padding: boolean;
}

export type InspectSummary = Omit<MetainfoSummary, 'files'> & { files: readonly InspectFile[] };

/** Output is handed to `write` in pieces of about this many characters. */
const CHUNK_CHARS = 64 * 1024;

export function renderInspect(summary: InspectSummary, options: InspectViewOptions): string {
  let text = '';
  writeInspect(summary, options, (chunk) => {
    text += chunk;
  });
  return text;
}

/**
 * `renderInspect`, written out a piece at a time: a list of 400 000 files is one line each,
 * and lines that are written and dropped die young instead of all living until the end.
 */
export function writeInspect(
  summary: InspectSummary,
  options: InspectViewOptions,
  write: (text: string) => void,
): void {
  let pending = '';
  const line = (text: string) => {
    pending += `${text}\n`;
    if (pending.length >= CHUNK_CHARS) {
      write(pending);
      pending = '';
    }
  };
  const row = (key: string, value: string | number | null | undefined) => {
    if (value === null || value === undefined || value === '') return;
    line(`${(key ? `${key}:` : '').padEnd(14)} ${value}`);
  };
  let realFiles = 0;
  for (const file of summary.files) if (!file.padding) realFiles++;
  row('Name', summary.name);
  row('Info hash', summary.infoHash ?? undefined);
  row('Info hash v2', summary.infoHashV2 ?? undefined);
  row('Version', summary.version);
  row(
    'Size',
    `${formatBytes(summary.totalSize)} (${summary.totalSize} bytes) in ${realFiles} file${realFiles === 1 ? '' : 's'}`,
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
    line('');
    line('Files:');
    if (options.tree) for (const text of fileTree(summary.files)) line(text);
    else {
      const { files } = summary;
      const width = String(files.length - 1).length;
      // Files of one size (often all of them) share the size's text.
      let sizeOf = -1;
      let size = '';
      for (let index = 0; index < files.length; index++) {
        const file = files[index];
        if (file.padding) continue;
        if (file.length !== sizeOf) {
          sizeOf = file.length;
          size = formatBytes(sizeOf).padStart(10);
        }
        line(`  ${String(index).padStart(width)}  ${size}  ${joined(file.path)}`);
      }
    }
  }
  if (pending !== '') write(pending);
}

function joined(path: string | readonly string[]): string {
  return typeof path === 'string' ? path : path.join('/');
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
export function fileTree(files: readonly InspectFile[]): readonly string[] {
  const root: TreeNode = { name: '', size: 0, index: -1, children: new Map() };
  files.forEach((file, index) => {
    if (file.padding) return;
    const parts = typeof file.path === 'string' ? file.path.split('/') : file.path;
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
