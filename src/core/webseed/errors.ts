/**
 * Why one web seed request failed. The engine never shows these to the user
 * on their own (a web seed failing is not fatal while other sources remain);
 * the WebSeed counts them, backs the server off and may drop it.
 */
export type WebSeedErrorCode =
  /** Connection refused/reset, DNS failure, TLS failure, proxy failure. */
  | 'network'
  /** An unexpected status (404, 500, ...). */
  | 'http-status'
  /** 503 or 429: the server asked to be left alone (`retryAfterMs` when it said how long). */
  | 'unavailable'
  /** Status, Content-Range or Content-Length do not describe the bytes asked for. */
  | 'bad-response'
  /** The body ended before every byte asked for arrived. */
  | 'short-body'
  /** The body came slower than the minimum rate, or missed the deadline. */
  | 'too-slow'
  /** Too many redirects, a redirect loop, a non-http target, or one the redirect policy refuses. */
  | 'redirect'
  /** The server is backing off or was dropped: nothing was sent. */
  | 'unusable'
  /** The caller's AbortSignal fired. */
  | 'aborted';

export class WebSeedError extends Error {
  readonly code: WebSeedErrorCode;
  /** For 'unavailable': how long the server asked us to wait (Retry-After), if it said. */
  readonly retryAfterMs: number | null;

  constructor(
    code: WebSeedErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number | null } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'WebSeedError';
    this.code = code;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

/** Failures that say nothing about the server: they are not counted against it. */
export function countsAgainstServer(error: WebSeedError): boolean {
  return error.code !== 'aborted' && error.code !== 'unusable';
}
