/**
 * The receiver's side of the MSE handshake (the side that accepted, "B"); the
 * message sequence is in mse-initiator.ts. B finds the end of PadA by
 * searching for HASH('req1', S) within the 512 + 20 bytes that may follow Ya,
 * then learns the torrent from the masked HASH('req2', SKEY): the lookup
 * knows every torrent the client runs.
 */
import type { Duplex } from 'node:stream';
import { computeSecret, DH_KEY_LENGTH, generateKeyPair } from './diffie-hellman.ts';
import { MseError } from './errors.ts';
import type { HandshakeReader } from './handshake-reader.ts';
import { mseCiphers, skeyMask, syncHash, xor20 } from './mse-keys.ts';
import type { MseOutcome } from './mse-initiator.ts';
import { MAX_IA, MAX_PAD, randomPadLength, randomPadding, VC_LENGTH } from './padding.ts';
import { selectCrypto } from './policy.ts';
import type { SkeyLookup } from './skey-index.ts';

export interface ReceiverOptions {
  /** CryptoMethod bits our policy accepts. */
  allowedCrypto: number;
  lookup: SkeyLookup;
}

export interface ReceiverOutcome extends MseOutcome {
  /** The stream key (info-hash) the initiator asked for. */
  skey: Uint8Array;
  /** The initiator's initial payload (IA), deciphered: the start of its BitTorrent stream. */
  initialPayload: Buffer;
}

export async function respondMse(
  stream: Duplex,
  reader: HandshakeReader,
  options: ReceiverOptions,
): Promise<ReceiverOutcome> {
  const keyPair = generateKeyPair();
  // Checked before answering: a bad key costs us no reply.
  const secret = computeSecret(keyPair, await reader.read(DH_KEY_LENGTH));
  stream.write(Buffer.concat([keyPair.publicKey, randomPadding()]));

  await reader.skipPast(syncHash(secret), MAX_PAD + 20);
  const req2Hash = xor20(await reader.read(20), skeyMask(secret));
  const skey = options.lookup(req2Hash);
  if (!skey) throw new MseError('unknown-skey', 'the peer asked for a torrent we do not run');
  const ciphers = mseCiphers(secret, skey, false);

  const offer = ciphers.decrypt.updateInPlace(await reader.read(VC_LENGTH + 4 + 2));
  if (offer.subarray(0, VC_LENGTH).some((byte) => byte !== 0)) {
    throw new MseError('bad-vc', 'verification constant is not zero');
  }
  const provided = offer.readUInt32BE(VC_LENGTH);
  const padC = offer.readUInt16BE(VC_LENGTH + 4);
  if (padC > MAX_PAD) throw new MseError('bad-length', `len(PadC) ${padC} exceeds ${MAX_PAD}`);
  const method = selectCrypto(options.allowedCrypto, provided);
  if (method === 0) {
    throw new MseError(
      'no-common-crypto',
      `peer offers crypto 0x${provided.toString(16)}, we accept 0x${options.allowedCrypto.toString(16)}`,
    );
  }
  const afterPad = ciphers.decrypt.updateInPlace(await reader.read(padC + 2));
  const iaLength = afterPad.readUInt16BE(padC);
  if (iaLength > MAX_IA) throw new MseError('bad-length', `len(IA) ${iaLength} exceeds ${MAX_IA}`);
  // IA is always enciphered, whatever is selected for what follows it.
  const initialPayload =
    iaLength > 0 ? ciphers.decrypt.updateInPlace(await reader.read(iaLength)) : Buffer.alloc(0);

  const padD = randomPadLength();
  const answer = Buffer.alloc(VC_LENGTH + 4 + 2 + padD); // VC and PadD are zeros
  answer.writeUInt32BE(method, VC_LENGTH);
  answer.writeUInt16BE(padD, VC_LENGTH + 4);
  stream.write(ciphers.encrypt.updateInPlace(answer));
  return { method, ciphers, skey, initialPayload };
}
