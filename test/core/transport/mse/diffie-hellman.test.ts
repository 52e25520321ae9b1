import { createDiffieHellman, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computeSecret,
  DH_KEY_LENGTH,
  generateKeyPair,
} from '../../../../src/core/transport/mse/diffie-hellman.ts';
import { MseError } from '../../../../src/core/transport/mse/errors.ts';

const PRIME_HEX =
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74' +
  '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437' +
  '4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563';

describe('MSE Diffie-Hellman', () => {
  it('agrees on a 96-byte secret with OpenSSL DH over the same prime and generator', () => {
    const openssl = createDiffieHellman(Buffer.from(PRIME_HEX, 'hex'), 2);
    const theirs = openssl.generateKeys();
    const ours = generateKeyPair();
    expect(ours.publicKey.length).toBe(DH_KEY_LENGTH);
    const secret = computeSecret(ours, theirs);
    expect(secret.length).toBe(DH_KEY_LENGTH);
    expect(Buffer.from(secret)).toEqual(openssl.computeSecret(Buffer.from(ours.publicKey)));
  });

  it('left-pads public keys and secrets with zeros to 96 bytes', () => {
    // A private key of 1 gives Y = 2: 95 zero bytes, then 2.
    const pair = generateKeyPair(() => Buffer.from([1]));
    expect(Buffer.from(pair.publicKey)).toEqual(
      Buffer.concat([Buffer.alloc(95), Buffer.from([2])]),
    );
    const other = generateKeyPair();
    expect(computeSecret(pair, other.publicKey)).toEqual(Buffer.from(other.publicKey));
  });

  it.each([
    ['0', Buffer.alloc(96)],
    ['1', Buffer.concat([Buffer.alloc(95), Buffer.from([1])])],
    ['P-1', Buffer.from(PRIME_HEX.slice(0, -1) + '2', 'hex')],
    ['P', Buffer.from(PRIME_HEX, 'hex')],
    ['2^768-1', Buffer.alloc(96, 0xff)],
    ['95 bytes long', randomBytes(95)],
  ])('refuses a peer public key of %s', (_name, key) => {
    let caught: unknown;
    try {
      computeSecret(generateKeyPair(), key);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MseError);
    expect((caught as MseError).code).toBe('bad-public-key');
  });
});
