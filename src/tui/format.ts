/** Short numbers for narrow columns (the shared formatters, plus what only the TUI needs). */
import { formatBytes, formatDuration, formatRate } from '../ui/format.ts';
import type { StatusCode, TuiTorrent } from './types.ts';
import type { Theme } from './theme.ts';

export { formatBytes, formatDuration, formatRate };

/** Zero rates as a dash: a column of "0 B/s" hides the ones that move. */
export function rate(bytesPerSecond: number): string {
  return bytesPerSecond > 0 ? formatRate(bytesPerSecond) : '-';
}

export function eta(seconds: number): string {
  return seconds >= 0 ? formatDuration(seconds) : '-';
}

export function ratio(value: number): string {
  return value < 0 ? '-' : value.toFixed(2);
}

export function percent(fraction: number): string {
  return `${Math.floor(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}

const STATUS_NAMES: Record<StatusCode, string> = {
  0: 'Paused',
  1: 'Check wait',
  2: 'Verifying',
  3: 'Queued',
  4: 'Downloading',
  5: 'Seed wait',
  6: 'Seeding',
};

export function statusName(t: Pick<TuiTorrent, 'status' | 'error' | 'isFinished'>): string {
  if (t.error === 3) return 'Error';
  if (t.status === 0 && t.isFinished) return 'Finished';
  return STATUS_NAMES[t.status];
}

export function statusStyled(t: TuiTorrent, theme: Theme): string {
  const name = statusName(t);
  if (t.error === 3) return theme.paint('red', name);
  if (t.error > 0) return theme.paint('yellow', `${name}!`);
  if (t.status === 4) return theme.paint('cyan', name);
  if (t.status === 6 || name === 'Finished') return theme.paint('green', name);
  if (t.status === 0) return theme.paint('dim', name);
  return name;
}

/** A bar of `width` cells for `fraction` (0..1). */
export function bar(fraction: number, width: number, theme: Theme): string {
  const f = Math.max(0, Math.min(1, fraction));
  const filled = Math.round(f * width);
  return theme.glyphs.full.repeat(filled) + theme.glyphs.empty.repeat(Math.max(0, width - filled));
}

/** Seconds since the epoch as a relative time ("3m ago", "in 12m"); 0 is never. */
export function relativeTime(unixSeconds: number, nowSeconds: number): string {
  if (unixSeconds <= 0) return '-';
  const delta = unixSeconds - nowSeconds;
  return delta >= 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

/** An RPC failure without the server's URL (the status bar shows the address already). */
export function shortReason(message: string): string {
  return message.replace(/ at https?:\/\/\S*?(?=: | |$)/, '');
}
