/** The spec's size bounds, and the random padding that hides MSE's message lengths. */
import { randomBytes, randomInt } from 'node:crypto';

/** PadA, PadB, PadC and PadD are each 0..512 bytes. */
export const MAX_PAD = 512;
/** The verification constant: 8 zero bytes, enciphered. */
export const VC_LENGTH = 8;
/**
 * Most initial payload (IA) we accept: a BitTorrent handshake is 68 bytes and
 * libtorrent refuses anything longer; we leave room for a few messages after it.
 */
export const MAX_IA = 4096;

/** Random bytes of random length 0..512: PadA and PadB travel in the clear, so they must look random. */
export function randomPadding(): Buffer {
  return randomBytes(randomInt(MAX_PAD + 1));
}

/** A random length for PadC and PadD: their content is enciphered, so zeros look random on the wire. */
export function randomPadLength(): number {
  return randomInt(MAX_PAD + 1);
}
