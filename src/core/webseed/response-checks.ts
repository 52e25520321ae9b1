/**
 * Pure checks on a web seed's response headers (no I/O): does this status,
 * Content-Range and Content-Length describe exactly the bytes asked for?
 * Everything here is hostile input.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { WebSeedError } from './errors.ts';

export interface AskedRange {
  /** First byte asked for, in the file. */
  start: number;
  length: number;
  /** The file's length from the torrent. */
  fileLength: number;
}

/**
 * How to read the body that follows: skip `skip` bytes, keep the next
 * `length`, then stop reading (the rest, if any, is never read).
 */
export interface BodyPlan {
  skip: number;
  /** True when the server answered 200 with the whole file instead of the range. */
  wholeFile: boolean;
}

const CONTENT_RANGE = /^bytes\s+(\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)$/i;

/** A Content-Length header as a number; null when absent; an error when it is not a number. */
function contentLength(headers: IncomingHttpHeaders): number | null {
  const value = headers['content-length'];
  if (value === undefined) return null;
  if (!/^\d{1,16}$/.test(value.trim())) {
    throw new WebSeedError('bad-response', `invalid Content-Length: ${value.slice(0, 40)}`);
  }
  return Number(value.trim());
}

/** Retry-After in milliseconds (delta-seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * Checks a 2xx response against the range asked for and says how to read its
 * body; throws WebSeedError 'bad-response' when it does not match.
 */
export function planBody(
  status: number,
  headers: IncomingHttpHeaders,
  asked: AskedRange,
): BodyPlan {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new WebSeedError(
      'bad-response',
      `unasked-for Content-Encoding: ${encoding.slice(0, 40)}`,
    );
  }
  const declared = contentLength(headers);
  const last = asked.start + asked.length - 1;
  if (status === 206) {
    const header = headers['content-range'] ?? '';
    const match = CONTENT_RANGE.exec(header.trim());
    if (!match) {
      throw new WebSeedError(
        'bad-response',
        `206 without a usable Content-Range: ${header.slice(0, 60)}`,
      );
    }
    const [from, to, total] = [Number(match[1]), Number(match[2]), match[3]!];
    if (from !== asked.start || to !== last) {
      throw new WebSeedError(
        'bad-response',
        `asked for bytes ${asked.start}-${last}, got Content-Range ${from}-${to}`,
      );
    }
    if (total !== '*' && Number(total) !== asked.fileLength) {
      throw new WebSeedError(
        'bad-response',
        `the server's file has ${total} bytes, the torrent's ${asked.fileLength}`,
      );
    }
    if (declared !== null && declared !== asked.length) {
      throw new WebSeedError(
        'bad-response',
        `Content-Length ${declared} for a range of ${asked.length} bytes`,
      );
    }
    return { skip: 0, wholeFile: false };
  }
  if (status === 200) {
    // The server ignored Range (or the whole file was asked for): the body is the
    // whole file, so it must be exactly as long as the torrent says.
    if (declared !== null && declared !== asked.fileLength) {
      throw new WebSeedError(
        'bad-response',
        `200 with ${declared} bytes for a file of ${asked.fileLength} bytes`,
      );
    }
    return { skip: asked.start, wholeFile: true };
  }
  throw new WebSeedError('http-status', `unexpected HTTP ${status}`);
}
