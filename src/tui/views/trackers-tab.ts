/** The Trackers tab: tier, URL, the last announce's outcome and time, swarm counts, the next announce. */
import { relativeTime } from '../format.ts';
import { fit, fitRight } from '../text.ts';
import type { Theme } from '../theme.ts';
import type { TuiTracker } from '../types.ts';

export function trackersTab(
  trackers: TuiTracker[] | undefined,
  scroll: number,
  width: number,
  height: number,
  theme: Theme,
  nowSeconds: number,
): string[] {
  if (!trackers) return [fit('  loading trackers…', width)];
  if (trackers.length === 0) return [fit('  no trackers (DHT, PEX or direct peers only)', width)];
  const tierW = 4;
  const statusW = 18;
  const timeW = 12;
  const countW = 6;
  const urlW = Math.max(12, width - (2 + tierW + statusW + 2 * timeW + 2 * countW + 6));
  const columns = (
    t: string,
    u: string,
    s: string,
    last: string,
    seeds: string,
    leech: string,
    next: string,
  ) =>
    `  ${fitRight(t, tierW)} ${fit(u, urlW)} ${fit(s, statusW)} ${fitRight(last, timeW)} ${fitRight(seeds, countW)} ${fitRight(leech, countW)} ${fitRight(next, timeW)}`;
  const lines = [
    theme.paint(
      'inverse',
      fit(columns('Tier', 'URL', 'Status', 'Last', 'Seeds', 'Leech', 'Next'), width),
    ),
  ];
  const top = Math.max(0, Math.min(scroll, trackers.length - (height - 1)));
  for (const t of trackers.slice(top, top + height - 1)) {
    const status =
      t.lastAnnounceTime <= 0
        ? 'not announced'
        : t.lastAnnounceSucceeded
          ? theme.paint('green', t.lastAnnounceResult || 'Success')
          : theme.paint('red', t.lastAnnounceResult || 'failed');
    const count = (n: number) => (n >= 0 ? String(n) : '-');
    lines.push(
      fit(
        columns(
          String(t.tier),
          t.announce,
          status,
          relativeTime(t.lastAnnounceTime, nowSeconds),
          count(t.seederCount),
          count(t.leecherCount),
          relativeTime(t.nextAnnounceTime, nowSeconds),
        ),
        width,
      ),
    );
  }
  return lines;
}
