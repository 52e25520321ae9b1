/**
 * One web seed (BEP 19 HTTP mirror) as a source of piece bytes. It maps a
 * piece range onto the torrent's files, asks the server for each file's part
 * (padding is never asked for: it is zeros), and returns the bytes. It does
 * not verify them: the engine hashes the piece and calls `reportBadPiece()`
 * when the hash fails, which counts against the server like any failure.
 *
 * Per server: at most `maxInFlight` HTTP requests at once (the rest queue),
 * kept-alive connections (one agent per host reached, redirect targets
 * included), and a ServerHealth that backs the server off after a failure
 * and drops it after `maxFailures` in a row.
 */
import type http from 'node:http';
import { PieceLayout, type FileSpan } from '../storage/layout.ts';
import { createAgent, proxySettingsFromEnv, type ProxySettings } from '../net/http-proxy.ts';
import { countsAgainstServer, WebSeedError } from './errors.ts';
import { fileUrls, type WebSeedTorrent } from './file-urls.ts';
import { fetchRange, type RangeRequestOptions } from './range-request.ts';
import { RequestSlots } from './request-slots.ts';
import { cachedResolve } from './resolve-cache.ts';
import { ServerHealth, type ServerState } from './server-health.ts';

export interface WebSeedOptions {
  /** Most HTTP requests in flight to this server (also its connection cap). Default 4. */
  maxInFlight?: number;
  /** Time allowed for the response headers, milliseconds. Default 15 000. */
  headersTimeoutMs?: number;
  /** Slowest acceptable body rate, bytes per second. Default 32 KiB/s. */
  minBytesPerSecond?: number;
  /** The window over which the minimum rate is checked, milliseconds. Default 5 000. */
  rateWindowMs?: number;
  /** Redirects followed per request. Default 5. */
  maxRedirects?: number;
  /** First back-off after a failure, doubled per failure in a row. Default 2 000 ms. */
  baseBackoffMs?: number;
  /** Longest back-off, Retry-After included. Default 10 minutes. */
  maxBackoffMs?: number;
  /** Failures in a row after which the server is dropped for the session. Default 5. */
  maxFailures?: number;
  userAgent?: string;
  /** Proxies; default: from HTTP_PROXY/HTTPS_PROXY/NO_PROXY (proxySettingsFromEnv). */
  proxies?: ProxySettings;
  /** Extra trusted CA certificates for https seeds. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Clock (ms since the epoch); tests inject one. */
  now?: () => number;
  /** Name resolution (RangeRequestOptions.resolve). */
  resolve?: RangeRequestOptions['resolve'];
}

export const defaultWebSeedOptions = {
  maxInFlight: 4,
  headersTimeoutMs: 15_000,
  minBytesPerSecond: 32 * 1024,
  rateWindowMs: 5_000,
  maxRedirects: 5,
  baseBackoffMs: 2_000,
  maxBackoffMs: 10 * 60_000,
  maxFailures: 5,
  userAgent: 'shoal/0.1',
} as const;

export interface WebSeedStats {
  url: string;
  state: ServerState;
  /** Bytes returned by successful fetches (padding included). */
  bytes: number;
  /** fetch() calls that succeeded. */
  fetches: number;
  /** Failures counted against the server (requests and bad pieces). */
  failures: number;
  /** Pieces the engine reported as failing their hash. */
  badPieces: number;
  /** HTTP requests now in flight, and waiting for a slot. */
  inFlight: number;
  queued: number;
  /** Answers that ignored Range (200 with the whole file). */
  wholeFileAnswers: number;
  /** When the back-off ends (ms since the epoch), 0 when not backing off. */
  backoffUntil: number;
  lastError: string | null;
}

/** How fetchSpace() gets its bytes to the caller. */
export interface SpaceFetchOptions {
  signal?: AbortSignal;
  /**
   * The buffer to fill (at least `length` bytes; reused by the caller between
   * fetches). Default: a new one, returned.
   */
  target?: Buffer;
  /**
   * Called as bytes arrive with how many bytes from the start of the range
   * are in place (a growing prefix): the caller may use them before the
   * whole range is done. They are final: nothing rewrites them.
   */
  onProgress?: (filled: number) => void;
}

export class WebSeed {
  readonly url: string;
  readonly #layout: PieceLayout;
  readonly #urls: (URL | null)[];
  readonly #fileLengths: number[];
  readonly #slots: RequestSlots;
  readonly #health: ServerHealth;
  readonly #now: () => number;
  readonly #request: RangeRequestOptions;
  readonly #agents = new Map<string, http.Agent>();
  #closed = false;
  #bytes = 0;
  #fetches = 0;
  #badPieces = 0;
  #wholeFile = 0;
  #lastError: string | null = null;

  /** Throws TypeError for a URL that is not http(s), ProxyConfigError for an unusable proxy. */
  constructor(url: string, torrent: WebSeedTorrent, options: WebSeedOptions = {}) {
    const o = { ...defaultWebSeedOptions, ...options };
    this.url = url;
    this.#urls = fileUrls(url, torrent);
    this.#fileLengths = torrent.files.map((file) => file.length);
    this.#layout = new PieceLayout(torrent);
    this.#slots = new RequestSlots(o.maxInFlight);
    this.#health = new ServerHealth(o);
    this.#now = options.now ?? Date.now;
    this.#request = {
      headersTimeoutMs: o.headersTimeoutMs,
      minBytesPerSecond: o.minBytesPerSecond,
      rateWindowMs: o.rateWindowMs,
      maxRedirects: o.maxRedirects,
      userAgent: o.userAgent,
      proxies: options.proxies ?? proxySettingsFromEnv(),
      resolve: options.resolve ?? cachedResolve(),
      agent: (target, proxy, key) => {
        let agent = this.#agents.get(key);
        if (!agent) {
          agent = createAgent(target, proxy, {
            keepAlive: true,
            maxSockets: o.maxInFlight,
            ca: options.ca,
          });
          this.#agents.set(key, agent);
        }
        return agent;
      },
    };
  }

  /** True when the server is neither backing off nor dropped, and has a free request slot. */
  canServe(): boolean {
    return this.state() === 'ready' && this.#slots.busy + this.#slots.queued < this.#slots.limit;
  }

  state(): ServerState {
    return this.#closed ? 'dropped' : this.#health.state(this.#now());
  }

  /**
   * The bytes [begin, begin + length) of piece `pieceIndex`. Rejects with
   * WebSeedError: 'unusable' (backing off or dropped: nothing was sent),
   * 'aborted' (the signal fired), or the failure, which was counted.
   */
  fetch(pieceIndex: number, begin: number, length: number, signal?: AbortSignal): Promise<Buffer> {
    return this.#fetchSpans(this.#layout.fileSpans(pieceIndex, begin, length), length, { signal });
  }

  /**
   * The bytes [offset, offset + length) of the piece space (several pieces
   * in one go: one HTTP request per file they touch). Fails as fetch() does.
   */
  fetchSpace(offset: number, length: number, options: SpaceFetchOptions = {}): Promise<Buffer> {
    return this.#fetchSpans(this.#layout.spansOfRange(offset, length), length, options);
  }

  async #fetchSpans(
    spans: FileSpan[],
    length: number,
    { signal, target, onProgress }: SpaceFetchOptions,
  ): Promise<Buffer> {
    const state = this.state();
    if (state !== 'ready') throw new WebSeedError('unusable', `web seed ${this.url} is ${state}`);
    const startedAt = this.#now();
    // Padding and gap spans are never requested and must read as zeros (filled
    // below). Every other byte is overwritten before the buffer is returned (a
    // range succeeds only once all its bytes arrived): no need to zero it first.
    const out = target ? target.subarray(0, length) : Buffer.allocUnsafe(length);
    const progress = onProgress ? new PrefixProgress(spans, onProgress) : null;
    // One failing part cancels its siblings: the range is lost anyway.
    const parts = new AbortController();
    const onAbort = (): void => parts.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      let position = 0;
      const requests: Promise<void>[] = [];
      spans.forEach((span, spanIndex) => {
        const at = position;
        position += span.length;
        if (span.kind !== 'data') {
          out.fill(0, at, at + span.length);
          return;
        }
        requests.push(
          this.#fetchSpan(
            span.fileIndex,
            span.fileOffset,
            out.subarray(at, at + span.length),
            parts.signal,
            progress ? (kept) => progress.update(spanIndex, kept) : undefined,
          ).catch((error: unknown) => {
            parts.abort();
            throw error;
          }),
        );
      });
      progress?.update(-1, 0);
      const results = await Promise.allSettled(requests);
      const reasons = results.flatMap((r) =>
        r.status === 'rejected' ? [r.reason as unknown] : [],
      );
      // Parts cancelled by the first failure say 'aborted'; the first real failure is the cause.
      const cause =
        reasons.find((r) => !(r instanceof WebSeedError) || countsAgainstServer(r)) ?? reasons[0];
      if (reasons.length > 0) throw this.#failed(cause, signal, startedAt);
      this.#health.succeeded();
      this.#bytes += length;
      this.#fetches++;
      return out;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The engine's verdict: a piece whose bytes came from this server failed its hash. */
  reportBadPiece(): void {
    this.#badPieces++;
    this.#lastError = 'a piece failed its hash check';
    this.#health.failed(this.#now());
  }

  stats(): WebSeedStats {
    return {
      url: this.url,
      state: this.state(),
      bytes: this.#bytes,
      fetches: this.#fetches,
      failures: this.#health.failures,
      badPieces: this.#badPieces,
      inFlight: this.#slots.busy,
      queued: this.#slots.queued,
      wholeFileAnswers: this.#wholeFile,
      backoffUntil: this.state() === 'backing-off' ? this.#health.backoffUntil : 0,
      lastError: this.#lastError,
    };
  }

  /** Drops the server, fails queued fetches and closes its connections. */
  close(): void {
    this.#closed = true;
    this.#slots.abandonAll(new WebSeedError('unusable', `web seed ${this.url} closed`));
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  async #fetchSpan(
    fileIndex: number,
    fileOffset: number,
    target: Buffer,
    signal: AbortSignal,
    onProgress?: (kept: number) => void,
  ): Promise<void> {
    await this.#slots.acquire(signal).catch(() => {
      throw new WebSeedError('aborted', 'web seed request cancelled');
    });
    try {
      if (this.#closed) throw new WebSeedError('unusable', `web seed ${this.url} closed`);
      const result = await fetchRange(
        {
          url: this.#urls[fileIndex]!,
          start: fileOffset,
          length: target.length,
          fileLength: this.#fileLengths[fileIndex]!,
          target,
          onProgress,
        },
        this.#request,
        signal,
      );
      if (result.wholeFile) this.#wholeFile++;
    } finally {
      this.#slots.release();
    }
  }

  /** Counts a failed fetch against the server (unless it was cancelled) and returns its error. */
  #failed(reason: unknown, signal: AbortSignal | undefined, startedAt: number): WebSeedError {
    const error =
      reason instanceof WebSeedError
        ? reason
        : new WebSeedError('network', String(reason), { cause: reason });
    if (signal?.aborted) return new WebSeedError('aborted', 'web seed request cancelled');
    if (countsAgainstServer(error)) {
      this.#lastError = error.message;
      this.#health.failed(this.#now(), error.retryAfterMs, startedAt);
    }
    return error;
  }
}

/**
 * The part of a range in place from its start: spans fill in parallel, each
 * from its own start; padding spans are in place at once.
 */
class PrefixProgress {
  readonly #spans: readonly FileSpan[];
  readonly #kept: number[];
  readonly #report: (filled: number) => void;
  /** First span not yet complete, and the bytes before it. */
  #first = 0;
  #before = 0;
  #reported = 0;

  constructor(spans: readonly FileSpan[], report: (filled: number) => void) {
    this.#spans = spans;
    this.#kept = spans.map((span) => (span.kind === 'data' ? 0 : span.length));
    this.#report = report;
  }

  /** Span `spanIndex` has its first `kept` bytes (-1: nothing new, just look again). */
  update(spanIndex: number, kept: number): void {
    if (spanIndex >= 0) this.#kept[spanIndex] = kept;
    while (this.#first < this.#spans.length) {
      const length = this.#spans[this.#first]!.length;
      if (this.#kept[this.#first]! < length) break;
      this.#before += length;
      this.#first++;
    }
    const filled = this.#before + (this.#kept[this.#first] ?? 0);
    if (filled > this.#reported) {
      this.#reported = filled;
      this.#report(filled);
    }
  }
}
