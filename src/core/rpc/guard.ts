/**
 * Who may talk to the RPC server, checked before any request body is read:
 * the caller's address (`--rpc-allow`), a request rate per caller on the
 * network, the Host header (DNS rebinding), and HTTP Basic credentials with
 * failed logins counted per caller (Transmission counts them globally, so one
 * attacker locks every user out).
 *
 * The rate cap is for callers on other machines: a process on this one can
 * spend the CPU anyway, and scripts adding hundreds of torrents from the
 * same machine should not be turned away (Transmission has no cap at all).
 */
import { isIP } from 'node:net';
import { createHash, timingSafeEqual } from 'node:crypto';

export interface GuardOptions {
  /** The address the server is bound to (always an allowed Host name). */
  bindAddress: string;
  /** More Host names to accept (a DNS name the daemon is reached by). */
  allowedHosts: string[];
  /** Caller addresses allowed: IP addresses, `*` wildcards per part (`192.168.*.*`). */
  allowedCallers: string[];
  credentials?: { username: string; password: string };
  /** Requests per second per caller not on this machine, and the burst above it. */
  ratePerSecond: number;
  burst: number;
  /** Failed logins per caller before it is refused for `lockoutMs`. */
  maxFailedLogins: number;
  lockoutMs: number;
}

export const LOOPBACK_CALLERS = ['127.0.0.1', '::1'];

/** Why a request is turned away: HTTP status and a one-line reason. */
export interface Refusal {
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

interface Bucket {
  tokens: number;
  updated: number;
}

/** Callers remembered at most (rate buckets and failed logins); the oldest are forgotten first. */
const MAX_TRACKED_CALLERS = 10_000;

export class RequestGuard {
  readonly #options: GuardOptions;
  readonly #buckets = new Map<string, Bucket>();
  readonly #failures = new Map<string, { count: number; since: number }>();
  readonly #now: () => number;

  constructor(options: GuardOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  /**
   * Address, rate and lock-out checks: before anything of the request is
   * trusted. `address` is normalised (normalizeAddress).
   */
  checkCaller(address: string): Refusal | null {
    if (!this.#options.allowedCallers.some((pattern) => addressMatches(address, pattern))) {
      return {
        status: 403,
        reason: `caller ${address} is not in the RPC allow list (--rpc-allow)`,
      };
    }
    if (!isLoopback(address) && !this.#takeToken(address)) {
      return {
        status: 429,
        reason: 'too many requests; slow down',
        headers: { 'Retry-After': '1' },
      };
    }
    const failed = this.#failures.get(address);
    if (failed && failed.count >= this.#options.maxFailedLogins) {
      if (this.#now() - failed.since < this.#options.lockoutMs) {
        return { status: 403, reason: 'too many failed logins from this address; try again later' };
      }
      this.#failures.delete(address);
    }
    return null;
  }

  /** The Host header must name this server, not a domain an attacker's page resolved to us. */
  checkHost(hostHeader: string | undefined): Refusal | null {
    const host = hostName(hostHeader ?? '');
    if (host !== null && this.#hostAllowed(host)) return null;
    return {
      status: 421,
      reason: `Host header "${(hostHeader ?? '').slice(0, 100)}" is not an allowed name for this server`,
    };
  }

  /** HTTP Basic credentials, when the server has any. */
  checkAuth(address: string, authorization: string | undefined): Refusal | null {
    const expected = this.#options.credentials;
    if (!expected) return null;
    const given = parseBasic(authorization);
    if (
      given &&
      sameSecret(given.username, expected.username) &&
      sameSecret(given.password, expected.password)
    ) {
      this.#failures.delete(address);
      return null;
    }
    if (given) this.#countFailure(address);
    return {
      status: 401,
      reason: given ? 'wrong user name or password' : 'credentials required',
      headers: { 'WWW-Authenticate': 'Basic realm="shoal"' },
    };
  }

  #hostAllowed(host: string): boolean {
    if (host === 'localhost' || host === 'localhost.') return true;
    // IP literals cannot be rebound: a page reaching us by IP is not using someone's domain.
    if (isIP(host) !== 0) return true;
    const names = [this.#options.bindAddress, ...this.#options.allowedHosts];
    return names.some((name) => name.toLowerCase() === host);
  }

  #takeToken(address: string): boolean {
    const now = this.#now();
    const { ratePerSecond, burst } = this.#options;
    const bucket = this.#buckets.get(address) ?? { tokens: burst, updated: now };
    bucket.tokens = Math.min(
      burst,
      bucket.tokens + ((now - bucket.updated) / 1000) * ratePerSecond,
    );
    bucket.updated = now;
    remember(this.#buckets, address, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  #countFailure(address: string): void {
    const entry = this.#failures.get(address) ?? { count: 0, since: this.#now() };
    entry.count += 1;
    entry.since = this.#now();
    remember(this.#failures, address, entry);
  }
}

/** Sets `key` as the newest entry, dropping the oldest beyond the cap (bounded memory under a flood of addresses). */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_TRACKED_CALLERS) map.delete(map.keys().next().value as string);
}

/** `::ffff:127.0.0.1` (an IPv4 caller on a dual-stack socket) as `127.0.0.1`. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Whether `address` is a loopback address (after normalizeAddress). */
export function isLoopback(address: string): boolean {
  return address === '::1' || /^127\./.test(address);
}

function addressMatches(address: string, pattern: string): boolean {
  if (!pattern.includes('*')) return address.toLowerCase() === pattern.toLowerCase();
  const separator = pattern.includes(':') ? ':' : '.';
  const want = pattern.split(separator);
  const have = address.split(separator);
  return want.length === have.length && want.every((part, i) => part === '*' || part === have[i]);
}

/** The host name of a Host header, lower-cased, without port or IPv6 brackets; null if malformed. */
function hostName(header: string): string | null {
  const value = header.trim().toLowerCase();
  if (value === '') return null;
  if (value.startsWith('[')) {
    const end = value.indexOf(']');
    return end > 0 ? value.slice(1, end) : null;
  }
  const colon = value.lastIndexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

function parseBasic(header: string | undefined): { username: string; password: string } | null {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match) return null;
  const text = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon === -1) return null;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Compares secrets in constant time (hashing first makes the lengths equal). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
