/**
 * An MSE/PE handshake failed. Like WireProtocolError this is not a user error
 * (no exit code): the connection that sent the bytes is closed, the session
 * goes on with its other peers. `code` is stable, for logs and for deciding
 * whether a plaintext retry is worth it (see `retryPlaintext` in establish.ts).
 */

export type MseErrorCode =
  /** The peer's Diffie-Hellman public key is outside 2..P-2. */
  | 'bad-public-key'
  /** No HASH('req1', S) (receiver) or encrypted VC (initiator) within the 512-byte padding bound. */
  | 'no-sync'
  /** The verification constant did not decrypt to 8 zero bytes. */
  | 'bad-vc'
  /** HASH('req2', SKEY) names no torrent we run. */
  | 'unknown-skey'
  /** crypto_provide offers no method our policy accepts. */
  | 'no-common-crypto'
  /** crypto_select is not exactly one method we provided. */
  | 'bad-crypto-select'
  /** len(PadC), len(PadD) above 512 or len(IA) above our bound. */
  | 'bad-length'
  /** Policy `require` and the peer opened with a plaintext BitTorrent handshake. */
  | 'plaintext-refused'
  /** The handshake did not finish within its time bound. */
  | 'timeout'
  /** The peer closed the connection (or it failed) mid-handshake. */
  | 'closed';

export class MseError extends Error {
  readonly code: MseErrorCode;
  constructor(code: MseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MseError';
    this.code = code;
  }
}
