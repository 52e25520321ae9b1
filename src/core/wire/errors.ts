/**
 * A peer broke the wire protocol. This is not a user error (no exit code): the
 * session drops the connection that sent the bytes and may ban that address
 * and port, but the download goes on with the other peers.
 */

export type WireErrorCode =
  | 'bad-handshake'
  | 'message-too-long'
  | 'bad-length'
  | 'bad-value'
  | 'bad-bitfield'
  | 'bad-extension';

export class WireProtocolError extends Error {
  /** Stable machine-readable reason, for logs and ban policies. */
  readonly code: WireErrorCode;
  constructor(code: WireErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WireProtocolError';
    this.code = code;
  }
}
