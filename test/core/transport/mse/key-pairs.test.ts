/**
 * MSE key pairs made ahead (mse/key-pairs.ts): made one per turn of the event
 * loop, never on the caller's turn, and each pair handed out once, so that no
 * two connections ever open with the same public key (why that matters is in
 * the file's comment). The dialling side of a real handshake sends the public
 * key of the pair it took.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  type DhKeyPair,
} from '../../../../src/core/transport/mse/diffie-hellman.ts';
import { HandshakeReader } from '../../../../src/core/transport/mse/handshake-reader.ts';
import { KeyPairSupply } from '../../../../src/core/transport/mse/key-pairs.ts';
import { initiateMse } from '../../../../src/core/transport/mse/mse-initiator.ts';
import { respondMse } from '../../../../src/core/transport/mse/mse-receiver.ts';
import { CryptoMethod } from '../../../../src/core/transport/mse/policy.ts';
import { SkeyIndex } from '../../../../src/core/transport/mse/skey-index.ts';
import { tappedPair } from './wire-tap.ts';

/** A supply that keeps the pairs it makes. */
function counted(): { supply: KeyPairSupply; made: () => number; pairs: DhKeyPair[] } {
  const pairs: DhKeyPair[] = [];
  const supply = new KeyPairSupply(() => {
    pairs.push(generateKeyPair());
    return pairs.at(-1)!;
  });
  return { supply, made: () => pairs.length, pairs };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('KeyPairSupply', () => {
  it('makes the pairs it is asked for ahead, one per turn, none on the caller’s turn', async () => {
    const { supply, made } = counted();
    supply.prepare(3);
    expect(made()).toBe(0);
    await nextTurn();
    expect(supply.ready).toBe(1);
    await nextTurn();
    await nextTurn();
    await nextTurn();
    expect(supply.ready).toBe(3);
    expect(made()).toBe(3);
    // Asking again for what is ready makes nothing more.
    supply.prepare(3);
    await nextTurn();
    expect(made()).toBe(3);
  });

  it('hands out the pairs made ahead first, then makes new ones; never one pair twice', async () => {
    const { supply, made } = counted();
    supply.prepare(2);
    for (let turn = 0; turn < 3; turn++) await nextTurn();
    const taken = Array.from({ length: 5 }, () => supply.take());
    expect(made()).toBe(5);
    expect(supply.ready).toBe(0);
    expect(new Set(taken).size).toBe(5);
    expect(new Set(taken.map((pair) => hex(pair.publicKey))).size).toBe(5);
    expect(new Set(taken.map((pair) => pair.privateKey)).size).toBe(5);
  });

  it('gives each dialled handshake its own pair: the public key on the wire is the one taken', async () => {
    const infoHash = randomBytes(20);
    const skeys = new SkeyIndex();
    skeys.add(infoHash);
    const { supply, pairs } = counted();
    supply.prepare(2);
    for (let turn = 0; turn < 3; turn++) await nextTurn();
    const sent: string[] = [];
    for (let i = 0; i < 2; i++) {
      const pair = tappedPair();
      const [initiated] = await Promise.all([
        initiateMse(pair.dialer, new HandshakeReader(pair.dialer), {
          skey: infoHash,
          cryptoProvide: CryptoMethod.rc4,
          keyPairs: supply,
        }),
        respondMse(pair.acceptor, new HandshakeReader(pair.acceptor), {
          allowedCrypto: CryptoMethod.rc4,
          lookup: skeys.lookup,
        }),
      ]);
      expect(initiated.method).toBe(CryptoMethod.rc4);
      sent.push(hex(pair.sentByDialer().subarray(0, 96)));
      pair.dialer.destroy();
    }
    expect(supply.ready).toBe(0);
    expect(sent).toEqual(pairs.map((pair) => hex(pair.publicKey)));
    expect(sent[0]).not.toBe(sent[1]);
  });
});
