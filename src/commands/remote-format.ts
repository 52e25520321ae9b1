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

/**
 * The `ls` table: ID, Done, Size, ETA, Down, Up, Ratio, Status, Name. The
 * name gets whatever width is left (at least 8 characters, cut with "…").
 */
export function listTable(torrents: Torrent[], width: number): string[] {
  const header = ['ID', 'Done', 'Size', 'ETA', 'Down', 'Up', 'Ratio', 'Status'];
  const rows = torrents.map((t) => [
    String(t.id),
    percent(t.percentDone),
    formatBytes(Number(t.sizeWhenDone ?? 0)),
    eta(t.eta),
    rate(t.rateDownload),
    rate(t.rateUpload),
    ratio(t.uploadRatio),
    statusName(t),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[], name: string) => {
    const fixed = cells
      .map((cell, i) => (i === 0 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ');
    const room = Math.max(8, width - fixed.length - 2);
    return `${fixed}  ${fit(name, room)}`.trimEnd();
  };
  return [line(header, 'Name'), ...rows.map((r, i) => line(r, String(torrents[i].name ?? '')))];
}

function fit(text: string, room: number): string {
  return text.length <= room ? text : `${text.slice(0, room - 1)}…`;
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
