/**
 * BEP 15 connection ids that cannot be forged: an id is the first 8 bytes of
 * HMAC-SHA256(secret, window | address | port), where the window is the
 * current minute. A client that never received the id (a spoofed source
 * address) cannot produce it, so the tracker never answers announces or
 * scrapes to addresses that did not complete the connect round trip first.
 * An id is accepted in its own window and the next (1 to 2 minutes, as
 * BEP 15 asks). The secret is random per process, so ids die with it.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const CONNECTION_WINDOW_MS = 60_000;

export class ConnectionIds {
  readonly #secret: Buffer;

  constructor(secret: Buffer = randomBytes(32)) {
    this.#secret = secret;
  }

  #id(window: number, host: string, port: number): bigint {
    const mac = createHmac('sha256', this.#secret).update(`${window}|${host}|${port}`).digest();
    return mac.readBigUInt64BE(0);
  }

  issue(host: string, port: number, now: number): bigint {
    return this.#id(Math.floor(now / CONNECTION_WINDOW_MS), host, port);
  }

  check(id: bigint, host: string, port: number, now: number): boolean {
    const window = Math.floor(now / CONNECTION_WINDOW_MS);
    return id === this.#id(window, host, port) || id === this.#id(window - 1, host, port);
  }
}
