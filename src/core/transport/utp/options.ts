/** The knobs of a uTP socket and its connections, with the defaults shoal uses. */

export interface UtpOptions {
  /**
   * Payload bytes per packet. 1400 keeps header + extensions + payload under
   * the 1472 bytes a 1500-byte Ethernet MTU leaves for UDP over IPv4, and under
   * IPv6's 1452, so packets are never fragmented.
   */
  packetSize: number;
  /** Bytes we accept ahead of what the application has read: the window we advertise. */
  receiveWindow: number;
  /** Congestion window ceiling, bytes (bounds memory held for retransmission). */
  maxWindow: number;
  /** Unsent bytes a connection buffers before write() reports backpressure. */
  sendQueueBytes: number;
  /** A connection that hears nothing for this long is dropped (and one whose peer window stays 0). */
  idleTimeoutMs: number;
  /** Send an empty ack after this long without sending anything, so the peer's idle timer does not fire. */
  keepAliveMs: number;
  /**
   * After the peer's FIN we answer with ours; if that is still unacked this
   * long after the peer's FIN, the connection is destroyed (the peer may be gone).
   */
  finTimeoutMs: number;
  /** connect() gives up after this long. */
  connectTimeoutMs: number;
  /** Incoming SYNs answered but not yet followed by a packet from the peer: beyond this, new SYNs are dropped. */
  maxHalfOpen: number;
  /** A half-open incoming connection is dropped after this long. */
  halfOpenTimeoutMs: number;
  /** Connections at once, all states; beyond this, new SYNs are dropped. */
  maxConnections: number;
  /** The clock, ms (monotonic); tests inject their own. */
  now: () => number;
}

export const defaultUtpOptions: Readonly<UtpOptions> = {
  packetSize: 1400,
  receiveWindow: 1024 * 1024,
  maxWindow: 1024 * 1024,
  sendQueueBytes: 256 * 1024,
  idleTimeoutMs: 120_000,
  keepAliveMs: 29_000,
  finTimeoutMs: 2_000,
  connectTimeoutMs: 10_000,
  maxHalfOpen: 64,
  halfOpenTimeoutMs: 10_000,
  maxConnections: 1024,
  now: () => performance.now(),
};
