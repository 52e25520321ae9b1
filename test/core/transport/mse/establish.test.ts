/**
 * shoal to shoal, in memory: every pair of encryption policies on the dialling
 * and the accepting side, which pairs connect and in which mode, which are
 * refused and by whom. A connection that is made carries a BitTorrent
 * handshake (inside the MSE handshake's IA), a bitfield and an interested
 * message both ways, checked byte for byte, and what crossed the "wire" is
 * checked too: enciphered for rc4, readable for plain connections.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SkeyIndex,
  secureIncoming,
  secureOutgoing,
  type EncryptionPolicy,
  type SecuredConnection,
} from '../../../../src/core/transport/mse/index.ts';
import { HandshakeReader } from '../../../../src/core/transport/mse/handshake-reader.ts';
import { initiateMse } from '../../../../src/core/transport/mse/mse-initiator.ts';
import { respondMse } from '../../../../src/core/transport/mse/mse-receiver.ts';
import { CryptoMethod } from '../../../../src/core/transport/mse/policy.ts';
import {
  decodeHandshake,
  encodeHandshake,
  encodeMessage,
  HANDSHAKE_LENGTH,
} from '../../../../src/core/wire/index.ts';
import { closed, readBytes, tappedPair, mseErrorOf } from './wire-tap.ts';

const infoHash = randomBytes(20);
const reserved = new Uint8Array(8);
const dialerHandshake = encodeHandshake({ reserved, infoHash, peerId: randomBytes(20) });
const acceptorHandshake = encodeHandshake({ reserved, infoHash, peerId: randomBytes(20) });
const bitfield = encodeMessage({ type: 'bitfield', bytes: randomBytes(40) });
const interested = encodeMessage({ type: 'interested' });
const PROTOCOL = Buffer.from('BitTorrent protocol');

type Outcome = 'rc4' | 'none' | 'refused by acceptor' | 'refused: acceptor speaks no MSE';

const MATRIX: [EncryptionPolicy, EncryptionPolicy, Outcome][] = [
  ['off', 'off', 'none'],
  ['off', 'prefer', 'none'],
  ['off', 'require', 'refused by acceptor'],
  ['prefer', 'off', 'refused: acceptor speaks no MSE'],
  ['prefer', 'prefer', 'rc4'],
  ['prefer', 'require', 'rc4'],
  ['require', 'off', 'refused: acceptor speaks no MSE'],
  ['require', 'prefer', 'rc4'],
  ['require', 'require', 'rc4'],
];

function index(): SkeyIndex {
  const skeys = new SkeyIndex();
  skeys.add(randomBytes(20));
  skeys.add(infoHash);
  return skeys;
}

/** Handshake, bitfield and interested both ways; returns nothing, asserts everything. */
async function exchange(dialer: SecuredConnection, acceptor: SecuredConnection): Promise<void> {
  const gotHandshake = await readBytes(acceptor.stream, HANDSHAKE_LENGTH, acceptor.received);
  const decoded = decodeHandshake(gotHandshake);
  expect(decoded.status).toBe('ok');
  expect(Buffer.from(gotHandshake)).toEqual(Buffer.from(dialerHandshake));

  acceptor.stream.cork();
  acceptor.stream.write(acceptorHandshake);
  acceptor.stream.write(bitfield);
  acceptor.stream.uncork();
  const answer = await readBytes(
    dialer.stream,
    acceptorHandshake.length + bitfield.length,
    dialer.received,
  );
  expect(answer).toEqual(Buffer.concat([acceptorHandshake, bitfield]));

  dialer.stream.write(interested);
  expect(await readBytes(acceptor.stream, interested.length)).toEqual(Buffer.from(interested));
}

describe('shoal to shoal, every pair of policies', () => {
  it.each(MATRIX)('dialer %s, acceptor %s: %s', async (dialerPolicy, acceptorPolicy, outcome) => {
    const pair = tappedPair();
    const dialing = secureOutgoing(pair.dialer, {
      policy: dialerPolicy,
      infoHash,
      initialPayload: dialerHandshake,
      timeoutMs: 30_000,
    });
    const accepting = secureIncoming(pair.acceptor, {
      policy: acceptorPolicy,
      lookup: index().lookup,
      timeoutMs: 30_000,
    });

    if (outcome === 'refused by acceptor') {
      expect((await mseErrorOf(accepting)).code).toBe('plaintext-refused');
      const dialer = await dialing;
      expect(dialer.mode).toBe('none');
      await closed(dialer.stream);
      return;
    }
    if (outcome === 'refused: acceptor speaks no MSE') {
      // With `off` the acceptor hands the socket straight to the BitTorrent layer,
      // whose handshake decoder refuses an MSE opening at its first byte.
      const acceptor = await accepting;
      expect(acceptor.mode).toBe('none');
      const opening = await readBytes(acceptor.stream, 1);
      expect(decodeHandshake(opening).status).toBe('invalid');
      acceptor.stream.destroy();
      expect((await mseErrorOf(dialing)).code).toBe('closed');
      return;
    }

    const [dialer, acceptor] = await Promise.all([dialing, accepting]);
    expect(dialer.mode).toBe(outcome);
    expect(acceptor.mode).toBe(outcome);
    await exchange(dialer, acceptor);
    if (outcome === 'rc4') {
      expect(Buffer.from(acceptor.skey!)).toEqual(infoHash);
      expect(pair.sentByDialer().includes(PROTOCOL)).toBe(false);
      expect(pair.sentByAcceptor().includes(PROTOCOL)).toBe(false);
      expect(pair.sentByAcceptor().includes(Buffer.from(bitfield))).toBe(false);
    } else {
      expect(pair.sentByDialer().subarray(0, HANDSHAKE_LENGTH)).toEqual(
        Buffer.from(dialerHandshake),
      );
      expect(pair.sentByAcceptor().includes(Buffer.from(bitfield))).toBe(true);
    }
    dialer.stream.destroy();
    await closed(acceptor.stream);
  });
});

describe('MSE plaintext mode (crypto_select 0x01)', () => {
  it('is chosen when the initiator offers only plaintext, and leaves the stream after IA readable', async () => {
    const pair = tappedPair();
    const dialerReader = new HandshakeReader(pair.dialer);
    const acceptorReader = new HandshakeReader(pair.acceptor);
    const [initiated, responded] = await Promise.all([
      initiateMse(pair.dialer, dialerReader, {
        skey: infoHash,
        cryptoProvide: CryptoMethod.plaintext,
        initialPayload: dialerHandshake,
      }),
      respondMse(pair.acceptor, acceptorReader, {
        allowedCrypto: CryptoMethod.plaintext | CryptoMethod.rc4,
        lookup: index().lookup,
      }),
    ]);
    expect(initiated.method).toBe(CryptoMethod.plaintext);
    expect(responded.method).toBe(CryptoMethod.plaintext);
    // IA is enciphered whatever the selection: the handshake inside it arrived, unreadable on the wire.
    expect(responded.initialPayload).toEqual(Buffer.from(dialerHandshake));
    expect(pair.sentByDialer().includes(PROTOCOL)).toBe(false);

    const dialerRest = dialerReader.release();
    acceptorReader.release();
    pair.acceptor.write(Buffer.concat([acceptorHandshake, bitfield]));
    const answer = await readBytes(
      pair.dialer,
      acceptorHandshake.length + bitfield.length,
      dialerRest,
    );
    expect(answer).toEqual(Buffer.concat([acceptorHandshake, bitfield]));
    expect(pair.sentByAcceptor().includes(Buffer.from(acceptorHandshake))).toBe(true);
  });

  it('a receiver that requires RC4 refuses an initiator offering only plaintext', async () => {
    const pair = tappedPair();
    const dialing = initiateMse(pair.dialer, new HandshakeReader(pair.dialer), {
      skey: infoHash,
      cryptoProvide: CryptoMethod.plaintext,
    });
    dialing.catch(() => {});
    const accepting = respondMse(pair.acceptor, new HandshakeReader(pair.acceptor), {
      allowedCrypto: CryptoMethod.rc4,
      lookup: index().lookup,
    });
    expect((await mseErrorOf(accepting)).code).toBe('no-common-crypto');
    pair.acceptor.destroy();
    expect((await mseErrorOf(dialing)).code).toBe('closed');
  });
});
