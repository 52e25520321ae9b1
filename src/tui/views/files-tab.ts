/**
 * The Files tab: the torrent's files as a tree (folders carry the sum of what
 * is under them), each with size, progress, wanted or skipped, and priority.
 * Space on a folder wants or skips everything under it.
 */
import { bar, formatBytes, percent } from '../format.ts';
import { fit, fitRight } from '../text.ts';
import type { Theme } from '../theme.ts';
import type { TuiFile } from '../types.ts';

export interface FileRow {
  depth: number;
  label: string;
  folder: boolean;
  /** Indices of every file at or under this row. */
  files: number[];
  length: number;
  completed: number;
  wanted: 'all' | 'none' | 'some';
  /** The files' priority, or undefined when they differ. */
  priority: number | undefined;
}

interface Node {
  name: string;
  children: Map<string, Node>;
  file?: TuiFile;
}

/** The tree flattened into rows in display order (folders before their contents). */
export function fileRows(files: TuiFile[]): FileRow[] {
  const root: Node = { name: '', children: new Map() };
  for (const file of files) {
    let node = root;
    const parts = file.name.split('/');
    for (const [i, part] of parts.entries()) {
      let child = node.children.get(part);
      if (!child) {
        child = { name: part, children: new Map() };
        node.children.set(part, child);
      }
      if (i === parts.length - 1) child.file = file;
      node = child;
    }
  }
  const rows: FileRow[] = [];
  const walk = (node: Node, depth: number): TuiFile[] => {
    if (node.file && node.children.size === 0) {
      const f = node.file;
      rows.push({
        depth,
        label: node.name,
        folder: false,
        files: [f.index],
        length: f.length,
        completed: f.bytesCompleted,
        wanted: f.wanted ? 'all' : 'none',
        priority: f.priority,
      });
      return [f];
    }
    const at = rows.length;
    rows.push({
      depth,
      label: `${node.name}/`,
      folder: true,
      files: [],
      length: 0,
      completed: 0,
      wanted: 'all',
      priority: 0,
    });
    const under: TuiFile[] = [];
    for (const child of node.children.values()) under.push(...walk(child, depth + 1));
    const wantedCount = under.filter((f) => f.wanted).length;
    const priorities = new Set(under.map((f) => f.priority));
    rows[at] = {
      ...rows[at]!,
      files: under.map((f) => f.index),
      length: under.reduce((sum, f) => sum + f.length, 0),
      completed: under.reduce((sum, f) => sum + f.bytesCompleted, 0),
      wanted: wantedCount === under.length ? 'all' : wantedCount === 0 ? 'none' : 'some',
      priority: priorities.size === 1 ? under[0]!.priority : undefined,
    };
    return under;
  };
  for (const child of root.children.values()) walk(child, 0);
  return rows;
}

function priorityName(priority: number | undefined): string {
  if (priority === undefined) return 'mixed';
  return priority > 0 ? 'high' : priority < 0 ? 'low' : 'normal';
}

/** The first row shown: the cursor kept in the middle of `body` rows where the list allows. */
export function filesTop(cursor: number, rowCount: number, body: number): number {
  return Math.max(0, Math.min(cursor - Math.floor(body / 2), rowCount - body));
}

/** Rows `height` lines tall; `cursor` is the selected row (scrolled into view). */
export function filesTab(
  files: TuiFile[] | undefined,
  cursor: number,
  width: number,
  height: number,
  theme: Theme,
): string[] {
  if (!files) return [fit('  loading files…', width)];
  if (files.length === 0)
    return [fit('  no files yet (the metadata is still being fetched)', width)];
  const rows = fileRows(files);
  const sizeW = 9;
  const progressW = 15;
  const prioW = 6;
  const nameW = Math.max(10, width - (2 + 4 + sizeW + progressW + prioW + 4));
  const header = theme.paint(
    'inverse',
    fit(
      `  ${fit('Want', 4)} ${fit('Name', nameW)} ${fitRight('Size', sizeW)} ${fit('Progress', progressW)} ${fit('Prio', prioW)}`,
      width,
    ),
  );
  const body = height - 1;
  const top = filesTop(cursor, rows.length, body);
  const lines = [header];
  for (const [i, r] of rows.slice(top, top + body).entries()) {
    const selected = top + i === cursor;
    const box = r.wanted === 'all' ? '[x]' : r.wanted === 'none' ? '[ ]' : '[~]';
    const fraction = r.length > 0 ? r.completed / r.length : 1;
    const name = `${'  '.repeat(r.depth)}${r.folder ? theme.glyphs.folder + ' ' : ''}${r.label}`;
    const progress = `${bar(fraction, 10, theme)} ${fitRight(percent(fraction), 4)}`;
    let text = `${fit(box, 4)} ${fit(name, nameW)} ${fitRight(formatBytes(r.length), sizeW)} ${progress} ${fit(priorityName(r.priority), prioW)}`;
    if (r.wanted === 'none') text = theme.paint('dim', text);
    const line = fit(`${selected ? theme.glyphs.cursor : ' '} ${text}`, width);
    lines.push(selected ? theme.paint('bold', line) : line);
  }
  return lines;
}
