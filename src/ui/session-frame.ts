/**
 * Draws one frame of the live session view as lines that each fit in `width`
 * columns (pure: the same snapshot and width always give the same lines).
 * The phase list comes from listr2's tasks (see session-view.ts); under the
 * running phase go the overall bar, the status line, the files in progress
 * and, with --verbose, the busiest peers.
 */
import cliProgress from 'cli-progress';
import { paint, truncate, visibleWidth } from './ansi.ts';
import { formatBytes, formatDuration, formatRate } from './format.ts';
import type { SessionSnapshot } from './session-model.ts';

export type TaskState = 'waiting' | 'running' | 'done' | 'skipped' | 'failed';
export interface TaskLine {
  title: string;
  state: TaskState;
}

export interface FrameOptions {
  color?: boolean;
  /** Index into the spinner frames (advances with time in the live view). */
  tick?: number;
  /** Most files in progress to list. */
  maxFiles?: number;
  /** Most peers in the --verbose table. */
  maxPeers?: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const INDENT = '  ';

/**
 * cli-progress's bar, drawn in one call (the live view and byte progress
 * place it themselves). It loads with every download that imports this file,
 * drawn or not: 3-4 ms for a cold bundle of it alone (5 runs, 2026-12-06),
 * less inside the executable's code-cached bundle. It stays; listr2, the
 * larger part, loads only when a view draws (session-view.ts).
 */
export function bar(fraction: number, size: number): string {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  // BarFormat cuts pre-rendered full-length strings (cli-progress builds them in its bar options).
  return cliProgress.Format.BarFormat(clamped, {
    barsize: size,
    barCompleteString: '█'.repeat(size),
    barIncompleteString: '░'.repeat(size),
    barGlue: '',
  } as cliProgress.Options);
}

function pct(fraction: number): string {
  return `${(100 * Math.min(1, Math.max(0, fraction))).toFixed(1)}%`;
}

/** Joins parts with two spaces, starting a new line where the next part would not fit. */
export function wrapParts(parts: string[], width: number, indent = INDENT): string[] {
  const lines: string[] = [];
  let line = '';
  for (const part of parts) {
    const candidate = line ? `${line}  ${part}` : part;
    if (line && visibleWidth(indent + candidate) > width) {
      lines.push(indent + line);
      line = part;
    } else line = candidate;
  }
  if (line) lines.push(indent + line);
  return lines;
}

/** A bar that takes what the text leaves of the line (10..40 columns), or a line of its own. */
export function barLines(fraction: number, parts: string[], width: number): string[] {
  const text = [pct(fraction), ...parts].join('  ');
  const room = width - INDENT.length - 1 - text.length;
  if (room >= 10) return [`${INDENT}${bar(fraction, Math.min(40, room))} ${text}`];
  const size = Math.max(5, Math.min(40, width - INDENT.length - 1 - pct(fraction).length));
  return [`${INDENT}${bar(fraction, size)} ${pct(fraction)}`, ...wrapParts(parts, width)];
}

/** Keeps the end of a path (the file name) when it has to be cut. */
function tail(text: string, width: number): string {
  if (text.length <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  return `…${text.slice(text.length - (width - 1))}`;
}

function ratio(stats: SessionSnapshot['stats']): string {
  const base = stats.downloaded || stats.totalWanted;
  return base > 0 ? (stats.uploaded / base).toFixed(2) : '0.00';
}

export function statusParts(snap: SessionSnapshot): string[] {
  const { stats, sources } = snap;
  const parts = [
    `peers ${stats.peers}/${stats.knownPeers}`,
    `↓ ${formatRate(stats.downloadRate)}`,
    `↑ ${formatRate(stats.uploadRate)}`,
    `ratio ${ratio(stats)}`,
  ];
  if (sources.trackers > 0) parts.push(`trackers ${sources.trackersAnswered}/${sources.trackers}`);
  if (sources.dhtNodes !== null || sources.dhtPeers > 0)
    parts.push(
      `dht ${sources.dhtPeers}${sources.dhtNodes !== null ? ` (${sources.dhtNodes} nodes)` : ''}`,
    );
  parts.push(`pex ${sources.pexPeers}`);
  return parts;
}

function bodyLines(snap: SessionSnapshot, width: number, options: FrameOptions): string[] {
  const { stats } = snap;
  const lines: string[] = [];
  if (snap.phase === 'checking') {
    const fraction = snap.check.total > 0 ? snap.check.bytes / snap.check.total : 0;
    lines.push(
      ...barLines(
        fraction,
        [`${formatBytes(snap.check.bytes)}/${formatBytes(snap.check.total)} checked`],
        width,
      ),
    );
    return lines;
  }
  if (snap.phase === 'seeding') {
    lines.push(
      ...wrapParts(
        [`seeding`, `sent ${formatBytes(stats.uploaded)}`, `${snap.filesTotal} file(s)`],
        width,
      ),
    );
  } else {
    const fraction = stats.totalWanted > 0 ? stats.haveWanted / stats.totalWanted : 1;
    const eta = stats.downloadRate > 0 ? stats.left / stats.downloadRate : Infinity;
    lines.push(
      ...barLines(
        fraction,
        [
          `${formatBytes(stats.haveWanted)}/${formatBytes(stats.totalWanted)}`,
          formatRate(stats.downloadRate),
          `ETA ${formatDuration(eta)}`,
        ],
        width,
      ),
    );
  }
  lines.push(...wrapParts(statusParts(snap), width));
  if (snap.filesTotal > 1 && snap.phase !== 'seeding') {
    lines.push(`${INDENT}files ${snap.filesDone}/${snap.filesTotal} complete`);
    const maxFiles = options.maxFiles ?? 5;
    for (const file of snap.filesActive.slice(0, maxFiles)) {
      const head = `${INDENT}${INDENT}${bar(file.fraction, width >= 60 ? 12 : 6)} ${pct(file.fraction).padStart(6)} `;
      lines.push(head + tail(file.path, width - 1 - head.length));
    }
    const more = snap.filesActive.length - maxFiles;
    if (more > 0) lines.push(`${INDENT}${INDENT}… and ${more} more in progress`);
  }
  if (snap.peers) lines.push(...peerTable(snap.peers, width, options.maxPeers ?? 8));
  for (const warning of snap.warnings)
    lines.push(`${INDENT}${paint('yellow', `warning: ${warning}`, options.color)}`);
  return lines;
}

function peerTable(
  peers: NonNullable<SessionSnapshot['peers']>,
  width: number,
  max: number,
): string[] {
  if (peers.length === 0) return [`${INDENT}no peers connected`];
  const addressWidth = Math.min(
    28,
    Math.max(7, ...peers.slice(0, max).map((peer) => peer.key.length)),
  );
  const row = (address: string, client: string, down: string, up: string, flags: string) =>
    `${INDENT}${address.padEnd(addressWidth)} ${client.padEnd(16)} ${down.padStart(11)} ${up.padStart(11)} ${flags}`;
  const lines = [row('address', 'client', 'down', 'up', 'flags')];
  for (const peer of peers.slice(0, max)) {
    const flags = [
      peer.choked ? 'choked' : '',
      peer.interested ? 'interested' : '',
      peer.snubbed ? 'snubbed' : '',
    ]
      .filter(Boolean)
      .join(',');
    lines.push(
      row(
        tail(peer.key, addressWidth),
        truncate(peer.client || '?', 16),
        formatRate(peer.downloadRate),
        formatRate(peer.uploadRate),
        flags || '-',
      ),
    );
  }
  if (peers.length > max) lines.push(`${INDENT}… ${peers.length - max} more`);
  return lines;
}

function taskLine(task: TaskLine, options: FrameOptions): string {
  const color = options.color;
  switch (task.state) {
    case 'done':
      return `${paint('green', '✔', color)} ${task.title}`;
    case 'failed':
      return `${paint('red', '✖', color)} ${task.title}`;
    case 'skipped':
      return `${paint('dim', '↓', color)} ${paint('dim', task.title, color)}`;
    case 'running':
      return `${paint('cyan', SPINNER[(options.tick ?? 0) % SPINNER.length], color)} ${task.title}`;
    default:
      return `${paint('dim', '◼', color)} ${task.title}`;
  }
}

/** The whole frame: each phase on a line, the body under the running one; every line fits `width`. */
export function renderSessionFrame(
  snap: SessionSnapshot,
  tasks: TaskLine[],
  width: number,
  options: FrameOptions = {},
): string[] {
  const lines: string[] = [];
  const bodyWidth = Math.max(20, width - 1);
  let bodyShown = false;
  for (const task of tasks) {
    lines.push(taskLine(task, options));
    if (task.state === 'running' && !bodyShown) {
      bodyShown = true;
      lines.push(...bodyLines(snap, bodyWidth, options));
    }
  }
  return lines.map((line) => truncate(line, Math.max(1, width - 1)));
}

/** The line left on screen after the view ends (and the plain-mode progress line). */
export function summaryLine(snap: SessionSnapshot): string {
  const { stats } = snap;
  // A seeder's closing line is about what it sent, whatever phase it ended in.
  if (snap.phase === 'seeding' || snap.verb === 'seed')
    return `${snap.verb} ${snap.name}: sent ${formatBytes(stats.uploaded)}  ${statusParts(snap).join('  ')}`;
  const fraction = stats.totalWanted > 0 ? stats.haveWanted / stats.totalWanted : 1;
  const eta = stats.downloadRate > 0 ? stats.left / stats.downloadRate : Infinity;
  return [
    `${snap.verb} ${snap.name}: ${pct(fraction)}`,
    `${formatBytes(stats.haveWanted)}/${formatBytes(stats.totalWanted)}`,
    `ETA ${formatDuration(eta)}`,
    ...statusParts(snap),
  ].join('  ');
}
