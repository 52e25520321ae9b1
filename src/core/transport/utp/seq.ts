/**
 * uTP sequence and ack numbers are 16 bits and wrap around: "before" and
 * "after" are decided within half the number space, as TCP does.
 */

export const SEQ_MASK = 0xffff;

/** `a` plus `n`, wrapped to 16 bits. */
export function seqAdd(a: number, n: number): number {
  return (a + n) & SEQ_MASK;
}

/** How far `a` is ahead of `b` (0..65535). */
export function seqDistance(a: number, b: number): number {
  return (a - b) & SEQ_MASK;
}

/** True when `a` comes strictly before `b`. */
export function seqBefore(a: number, b: number): boolean {
  const d = seqDistance(b, a);
  return d !== 0 && d < 0x8000;
}

/** Packets outstanding at once: far below half the 16-bit sequence space, so comparisons stay sound. */
export const MAX_OUTSTANDING_PACKETS = 4096;
