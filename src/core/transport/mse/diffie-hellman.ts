/**
 * MSE's 768-bit Diffie-Hellman key exchange (generator 2, the Oakley group 1
 * prime the spec names). Plain BigInt arithmetic: a key pair or a secret is
 * one 160-bit-exponent modexp, about 0.3 ms, whereas Node's
 * createDiffieHellman spends ~20 ms checking the prime on every call. MSE only
 * obfuscates (it never authenticates the peer), so constant-time arithmetic
 * buys nothing here.
 */
import { randomBytes } from 'node:crypto';
import { MseError } from './errors.ts';

/** Bytes of a public key or shared secret on the wire: 768 bits. */
export const DH_KEY_LENGTH = 96;
/** Bits of the private exponent; libtorrent uses 160 as well. */
const PRIVATE_KEY_BYTES = 20;

const PRIME = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74' +
    '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437' +
    '4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563',
);
const GENERATOR = 2n;

export interface DhKeyPair {
  privateKey: bigint;
  /** Y = G^X mod P, big-endian, left-padded to 96 bytes. */
  publicKey: Uint8Array;
}

export function generateKeyPair(random: (bytes: number) => Uint8Array = randomBytes): DhKeyPair {
  let privateKey = 0n;
  // A zero exponent would give Y = 1; 2^-160 odds, but the loop costs nothing.
  while (privateKey === 0n) privateKey = bytesToBigInt(random(PRIVATE_KEY_BYTES));
  return { privateKey, publicKey: bigIntToBytes(modPow(GENERATOR, privateKey, PRIME)) };
}

/**
 * S = Y_peer^X mod P as 96 big-endian bytes. A peer key of 0, 1, P-1 or ≥ P
 * would force S into a tiny set (anyone could read the stream), so those are
 * refused.
 */
export function computeSecret(keyPair: DhKeyPair, peerPublicKey: Uint8Array): Uint8Array {
  if (peerPublicKey.length !== DH_KEY_LENGTH) {
    throw new MseError(
      'bad-public-key',
      `public key of ${peerPublicKey.length} bytes, expected 96`,
    );
  }
  const y = bytesToBigInt(peerPublicKey);
  if (y < 2n || y > PRIME - 2n) {
    throw new MseError('bad-public-key', 'public key outside 2..P-2');
  }
  return bigIntToBytes(modPow(y, keyPair.privateKey, PRIME));
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let square = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * square) % modulus;
    square = (square * square) % modulus;
  }
  return result;
}

function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes).toString('hex'));
}

function bigIntToBytes(value: bigint): Uint8Array {
  return Buffer.from(value.toString(16).padStart(DH_KEY_LENGTH * 2, '0'), 'hex');
}
