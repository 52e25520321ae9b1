/**
 * The initiator's side of the MSE handshake (the side that dialled, "A"):
 *
 *   A→B  Ya, PadA
 *   B→A  Yb, PadB
 *   A→B  HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S),
 *        ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
 *   B→A  ENCRYPT(VC, crypto_select, len(PadD), PadD)
 *
 * A finds the end of PadB by deciphering nothing: it knows B's keystream, so
 * it enciphers VC itself and searches for those 8 bytes.
 */
import type { Duplex } from 'node:stream';
import { computeSecret, DH_KEY_LENGTH } from './diffie-hellman.ts';
import { MseError } from './errors.ts';
import type { HandshakeReader } from './handshake-reader.ts';
import { dialKeyPairs, type KeyPairSupply } from './key-pairs.ts';
import { mseCiphers, skeyHash, skeyMask, syncHash, xor20, type MseCiphers } from './mse-keys.ts';
import { MAX_IA, MAX_PAD, randomPadLength, randomPadding, VC_LENGTH } from './padding.ts';

export interface InitiatorOptions {
  /** The torrent's stream key: its 20-byte info-hash (a v2 one truncated). */
  skey: Uint8Array;
  /** CryptoMethod bits we offer. */
  cryptoProvide: number;
  /** Sent enciphered inside the handshake (usually our BitTorrent handshake), saving a round trip. */
  initialPayload?: Uint8Array;
  /** Where our key pair comes from (key-pairs.ts): the process's supply unless a test gives one. */
  keyPairs?: KeyPairSupply;
}

export interface MseOutcome {
  /** The CryptoMethod chosen for the rest of the connection. */
  method: number;
  ciphers: MseCiphers;
}

export async function initiateMse(
  stream: Duplex,
  reader: HandshakeReader,
  options: InitiatorOptions,
): Promise<MseOutcome> {
  const ia = options.initialPayload ?? new Uint8Array(0);
  if (ia.length > MAX_IA) throw new RangeError(`initial payload of ${ia.length} bytes`);
  const keyPair = (options.keyPairs ?? dialKeyPairs).take();
  stream.write(Buffer.concat([keyPair.publicKey, randomPadding()]));

  const secret = computeSecret(keyPair, await reader.read(DH_KEY_LENGTH));
  const ciphers = mseCiphers(secret, options.skey, true);

  const padC = randomPadLength();
  const offer = Buffer.alloc(VC_LENGTH + 4 + 2 + padC + 2 + ia.length); // VC and PadC are zeros
  offer.writeUInt32BE(options.cryptoProvide, VC_LENGTH);
  offer.writeUInt16BE(padC, VC_LENGTH + 4);
  offer.writeUInt16BE(ia.length, VC_LENGTH + 6 + padC);
  offer.set(ia, VC_LENGTH + 8 + padC);
  stream.write(
    Buffer.concat([
      syncHash(secret),
      xor20(skeyHash(options.skey), skeyMask(secret)),
      ciphers.encrypt.updateInPlace(offer),
    ]),
  );

  // Enciphering VC here also moves our deciphering keystream past it, as reading it would.
  const encryptedVc = ciphers.decrypt.update(new Uint8Array(VC_LENGTH));
  await reader.skipPast(encryptedVc, MAX_PAD + VC_LENGTH);
  const answer = ciphers.decrypt.updateInPlace(await reader.read(4 + 2));
  const method = answer.readUInt32BE(0);
  const padD = answer.readUInt16BE(4);
  if (!isSingleMethodOf(method, options.cryptoProvide)) {
    throw new MseError(
      'bad-crypto-select',
      `peer selected crypto 0x${method.toString(16)}, we offered 0x${options.cryptoProvide.toString(16)}`,
    );
  }
  if (padD > MAX_PAD) throw new MseError('bad-length', `len(PadD) ${padD} exceeds ${MAX_PAD}`);
  if (padD > 0) ciphers.decrypt.updateInPlace(await reader.read(padD));
  return { method, ciphers };
}

/** crypto_select must name exactly one method, and one we offered. */
function isSingleMethodOf(method: number, provided: number): boolean {
  return method !== 0 && (method & (method - 1)) === 0 && (method & provided) === method;
}
