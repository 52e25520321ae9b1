/**
 * A tracker failed or misbehaved. Like a wire protocol error this is not a user
 * error (no exit code): the announcer reports it as a per-tracker event and
 * carries on with the other trackers. Only the engine decides, much later,
 * that "no peers at all" is a NetworkError.
 */

export type TrackerErrorCode =
  /** The bytes are not a valid tracker response (parsers throw only this code). */
  | 'bad-response'
  /** The tracker answered with a `failure reason` (HTTP) or an error action (UDP). */
  | 'failure'
  /** No complete answer within the time allowed. */
  | 'timeout'
  /** The response was larger than the cap. */
  | 'too-large'
  /** An HTTP status other than 200 without a bencoded failure in the body. */
  | 'http-status'
  | 'too-many-redirects'
  /** A public tracker redirected to a loopback or private address (redirect-policy.ts). */
  | 'redirect-refused'
  /** An announce URL (or a redirect target) that shoal will not use. */
  | 'bad-url'
  /** DNS, connection or socket failure. */
  | 'network'
  /** Cancelled by the caller (shutdown). */
  | 'aborted';

export class TrackerError extends Error {
  /** Stable machine-readable reason, for logs and retry policies. */
  readonly code: TrackerErrorCode;
  /** BEP 31 `retry in` (seconds) from a failure response, when the tracker gave one. */
  readonly retryInSec: number | undefined;
  constructor(
    code: TrackerErrorCode,
    message: string,
    options?: { cause?: unknown; retryInSec?: number },
  ) {
    super(message, options);
    this.name = 'TrackerError';
    this.code = code;
    this.retryInSec = options?.retryInSec;
  }
}
