/**
 * How `shoal remote` shows RPC objects to a person: the `ls` table (its name
 * column shrinks to fit the terminal), `info` lines and `stats` lines.
 */
import { formatBytes, formatDuration, formatRate } from '../ui/format.ts';

export const LIST_FIELDS = [
  'id',
  'name',
  'status',
  'error',
  'errorString',
  'percentDone',
  'sizeWhenDone',
  'leftUntilDone',
  'eta',
  'rateDownload',
  'rateUpload',
  'uploadRatio',
  'hashString',
];

export const INFO_FIELDS = [
  ...LIST_FIELDS,
  'downloadDir',
  'totalSize',
  'haveValid',
  'downloadedEver',
  'uploadedEver',
  'peersConnected',
  'pieceCount',
  'pieceSize',
  'isPrivate',
  'comment',
  'creator',
  'addedDate',
  'labels',
  'magnetLink',
  'files',
  'fileStats',
  'downloadLimit',
  'downloadLimited',
  'uploadLimit',
  'uploadLimited',
  'seedRatioLimit',
  'seedRatioMode',
];

const STATUS_NAMES = [
  'Stopped',
  'Queued to verify',
  'Verifying',
  'Queued',
  'Downloading',
  'Queued to seed',
  'Seeding',
];

type Torrent = Record<string, unknown>;

export function statusName(t: Torrent): string {
  const name = STATUS_NAMES[Number(t.status)] ?? `status ${String(t.status)}`;
  return Number(t.error) > 0 ? `Error` : name;
}

function percent(value: unknown): string {
  return `${Math.floor(Number(value ?? 0) * 100)}%`;
}

function eta(value: unknown): string {
  const seconds = Number(value);
  return seconds >= 0 ? formatDuration(seconds) : '-';
}

function ratio(value: unknown): string {
  const r = Number(value);
  if (r === -2) return 'Inf';
  return r >= 0 ? r.toFixed(2) : '-';
}

function rate(value: unknown): string {
  return formatRate(Number(value ?? 0));
}

interface Column {
  title: string;
  cell(t: Torrent): string;
}

const COLUMNS: Column[] = [
  { title: 'ID', cell: (t) => String(t.id) },
  { title: 'Done', cell: (t) => percent(t.percentDone) },
  { title: 'Size', cell: (t) => formatBytes(Number(t.sizeWhenDone ?? 0)) },
  { title: 'ETA', cell: (t) => eta(t.eta) },
  { title: 'Down', cell: (t) => rate(t.rateDownload) },
  { title: 'Up', cell: (t) => rate(t.rateUpload) },
  { title: 'Ratio', cell: (t) => ratio(t.uploadRatio) },
  { title: 'Status', cell: (t) => statusName(t) },
];

/** Columns given up, in this order, when the terminal is too narrow for them and a readable name. */
const DROP_ORDER = ['Up', 'Ratio', 'ETA', 'Size', 'Down'];
const MIN_NAME = 12;

/**
 * The `ls` table: ID, Done, Size, ETA, Down, Up, Ratio, Status, Name. No line
 * is wider than `width`: the name gets what is left (cut with "…"), and on a
 * narrow terminal the less useful columns go first.
 */
export function listTable(torrents: Torrent[], width: number): string[] {
  let columns = COLUMNS;
  const cells = (cols: Column[]) => torrents.map((t) => cols.map((c) => c.cell(t)));
  const widths = (cols: Column[]) =>
    cols.map((c, i) => Math.max(c.title.length, ...cells(cols).map((row) => row[i].length)));
  const fixedWidth = (cols: Column[]) => widths(cols).reduce((sum, w) => sum + w + 2, 0);
  for (const title of DROP_ORDER) {
    if (fixedWidth(columns) + MIN_NAME <= width) break;
    columns = columns.filter((c) => c.title !== title);
  }
  const colWidths = widths(columns);
  const room = Math.max(1, width - fixedWidth(columns));
  const line = (row: string[], name: string) =>
    `${row.map((cell, i) => (i === 0 ? cell.padStart(colWidths[i]) : cell.padEnd(colWidths[i]))).join('  ')}  ${fit(name, room)}`.trimEnd();
  return [
    line(
      columns.map((c) => c.title),
      'Name',
    ),
    ...cells(columns).map((row, i) => line(row, String(torrents[i].name ?? ''))),
  ];
}

function fit(text: string, room: number): string {
  return text.length <= room ? text : `${text.slice(0, Math.max(0, room - 1))}…`;
}

/** A Transmission speed limit (kB/s, 1000 bytes) as shoal shows rates. */
function limit(limited: unknown, kBps: unknown): string {
  return limited ? rate(Number(kBps) * 1000) : 'none';
}

export function infoLines(t: Torrent): string[] {
  const lines = [
    `Name: ${String(t.name)}`,
    `Id: ${String(t.id)}`,
    `Hash: ${String(t.hashString)}`,
    `State: ${statusName(t)}${Number(t.error) > 0 ? ` (${String(t.errorString)})` : ''}`,
    `Location: ${String(t.downloadDir)}`,
    `Size: ${formatBytes(Number(t.totalSize ?? 0))} (${formatBytes(Number(t.sizeWhenDone ?? 0))} wanted)`,
    `Done: ${percent(t.percentDone)} (${formatBytes(Number(t.haveValid ?? 0))} verified)`,
    `ETA: ${eta(t.eta)}`,
    `Speed: down ${rate(t.rateDownload)}, up ${rate(t.rateUpload)}`,
    `Transferred: down ${formatBytes(Number(t.downloadedEver ?? 0))}, up ${formatBytes(Number(t.uploadedEver ?? 0))}, ratio ${ratio(t.uploadRatio)}`,
    `Peers: ${String(t.peersConnected ?? 0)}`,
    `Pieces: ${String(t.pieceCount)} × ${formatBytes(Number(t.pieceSize ?? 0))}`,
    `Private: ${t.isPrivate ? 'yes' : 'no'}`,
    `Limits: down ${limit(t.downloadLimited, t.downloadLimit)}, up ${limit(t.uploadLimited, t.uploadLimit)}, seed ratio ${t.seedRatioMode === 1 ? String(t.seedRatioLimit) : t.seedRatioMode === 2 ? 'none' : 'session default'}`,
  ];
  if (t.comment) lines.push(`Comment: ${String(t.comment)}`);
  if (Array.isArray(t.labels) && t.labels.length > 0) lines.push(`Labels: ${t.labels.join(', ')}`);
  if (t.magnetLink) lines.push(`Magnet: ${String(t.magnetLink)}`);
  const files = Array.isArray(t.files) ? (t.files as Torrent[]) : [];
  const stats = Array.isArray(t.fileStats) ? (t.fileStats as Torrent[]) : [];
  lines.push(`Files (${files.length}):`);
  files.forEach((file, i) => {
    const done = Number(file.length) > 0 ? Number(file.bytesCompleted) / Number(file.length) : 1;
    const skipped = stats[i]?.wanted === false ? ' (skipped)' : '';
    lines.push(
      `  ${i}: ${String(file.name)}  ${formatBytes(Number(file.length))}  ${percent(done)}${skipped}`,
    );
  });
  return lines;
}

export function statsLines(stats: Torrent): string[] {
  const block = (title: string, s: Torrent | undefined) => [
    `${title}: down ${formatBytes(Number(s?.downloadedBytes ?? 0))}, up ${formatBytes(Number(s?.uploadedBytes ?? 0))}, ${String(s?.secondsActive ?? 0)} s active`,
  ];
  return [
    `Torrents: ${String(stats.torrentCount)} (${String(stats.activeTorrentCount)} active, ${String(stats.pausedTorrentCount)} paused)`,
    `Speed: down ${rate(stats.downloadSpeed)}, up ${rate(stats.uploadSpeed)}`,
    ...block('This session', stats['current-stats'] as Torrent | undefined),
    ...block('All time', stats['cumulative-stats'] as Torrent | undefined),
  ];
}
