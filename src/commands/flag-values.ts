/**
 * What flag values mean: human sizes, durations, ratios, file selections,
 * addresses and URLs, parsed into values or refused with a UsageError (exit 2).
 * Apart from flags.ts, which holds the oclif flag definitions, so that code
 * that runs without oclif (commands/create.fast.ts) can parse values too.
 */
import { UsageError } from '../core/errors.ts';
import { parseHostPortText } from '../core/net/peer-address.ts';

const sizeUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/** Parses `16KiB`, `4MiB`, `1.5GB`, `4m` (binary), or plain bytes. */
export function parseSize(text: string, what = 'size'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? sizeUnits[match[2].toLowerCase()] : undefined;
  if (!match || unit === undefined) {
    throw new UsageError(
      `invalid ${what} "${text}": use a number with an optional unit, e.g. 16KiB, 4MiB, 1.5GB`,
    );
  }
  const value = Math.round(Number(match[1]) * unit);
  if (!Number.isSafeInteger(value)) throw new UsageError(`invalid ${what} "${text}": too large`);
  return value;
}

const durationUnits: Record<string, number> = { ms: 0.001, s: 1, '': 1, m: 60, h: 3600, d: 86400 };

/** Parses `90s`, `10m`, `2h`, `1.5h`, `500ms` or plain seconds; returns milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match) {
    throw new UsageError(`invalid ${what} "${text}": use a number with a unit, e.g. 90s, 10m, 2h`);
  }
  return Math.round(Number(match[1]) * durationUnits[(match[2] ?? '').toLowerCase()] * 1000);
}

/** A non-negative ratio such as `1.0` (uploaded / downloaded). */
export function parseRatio(text: string, what = 'ratio'): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`invalid ${what} "${text}": use a non-negative number such as 1.0`);
  }
  return value;
}

/** Parses `--select 0,2-4` into sorted unique file indexes. */
export function parseSelection(text: string): number[] {
  const indexes = new Set<number>();
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!match)
      throw new UsageError(
        `invalid --select "${text}": use file indexes like 0,2-4 (see shoal inspect --files)`,
      );
    const from = Number(match[1]);
    const to = match[2] === undefined ? from : Number(match[2]);
    if (to < from || to - from > 1_000_000)
      throw new UsageError(`invalid --select range "${part.trim()}"`);
    for (let i = from; i <= to; i++) indexes.add(i);
  }
  return [...indexes].sort((a, b) => a - b);
}

/**
 * Parses `HOST:PORT` or `[IPV6]:PORT` (IPv4-mapped IPv6 becomes IPv4). A bare
 * `::1:6881` is refused with a hint: it is ambiguous.
 */
export function parseHostPort(text: string, flag: string): { host: string; port: number } {
  const parsed = parseHostPortText(text.trim());
  if (!parsed.ok) throw new UsageError(`invalid ${flag} "${text}": ${parsed.reason}`);
  return { host: parsed.host, port: parsed.port };
}

/**
 * Parses a DHT node for `--dht-bootstrap` into the `host:port` text the DHT
 * library takes. IPv6 nodes are refused: the DHT (bittorrent-dht) runs over
 * IPv4 only, and would read `::1:6881` as nothing at all.
 */
export function parseDhtNode(text: string, flag = '--dht-bootstrap'): string {
  const { host, port } = parseHostPort(text, flag);
  if (host.includes(':'))
    throw new UsageError(
      `invalid ${flag} "${text}": the DHT runs over IPv4 only (no BEP 32); give an IPv4 address or host name`,
    );
  return `${host}:${port}`;
}

/** `--web-seed` values (create and download): http(s) URLs only, else exit 2 before any work. */
export function checkWebSeedUrls(urls: readonly string[]): void {
  for (const url of urls) {
    if (!/^https?:\/\/\S+$/i.test(url))
      throw new UsageError(`invalid --web-seed URL "${url}": use http or https`);
  }
}
