/** The Peers tab: address, client, flags, rates both ways and how much each peer has. */
import { formatRate, percent } from '../format.ts';
import { fit, fitRight } from '../text.ts';
import type { Theme } from '../theme.ts';
import type { TuiPeer } from '../types.ts';

export function peersTab(
  peers: TuiPeer[] | undefined,
  scroll: number,
  width: number,
  height: number,
  theme: Theme,
): string[] {
  if (!peers) return [fit('  loading peers…', width)];
  if (peers.length === 0) return [fit('  no peers connected', width)];
  const addressW = 24;
  const flagsW = 8;
  const rateW = 11;
  const haveW = 5;
  const clientW = Math.max(8, width - (2 + addressW + flagsW + 2 * rateW + haveW + 5));
  const columns = (a: string, c: string, f: string, d: string, u: string, h: string) =>
    `  ${fit(a, addressW)} ${fit(c, clientW)} ${fit(f, flagsW)} ${fitRight(d, rateW)} ${fitRight(u, rateW)} ${fitRight(h, haveW)}`;
  const lines = [
    theme.paint('inverse', fit(columns('Address', 'Client', 'Flags', 'Down', 'Up', 'Has'), width)),
  ];
  const sorted = [...peers].sort(
    (a, b) => b.rateToClient - a.rateToClient || a.address.localeCompare(b.address),
  );
  const top = Math.max(0, Math.min(scroll, sorted.length - (height - 1)));
  for (const p of sorted.slice(top, top + height - 1)) {
    const address = p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
    lines.push(
      fit(
        columns(
          address,
          p.clientName || '?',
          p.flagStr,
          p.rateToClient > 0 ? formatRate(p.rateToClient) : '-',
          p.rateToPeer > 0 ? formatRate(p.rateToPeer) : '-',
          p.progress >= 0 ? percent(p.progress) : '-',
        ),
        width,
      ),
    );
  }
  return lines;
}
