/**
 * Scripted MSE peers for hostile-input tests: each follows the handshake
 * faithfully unless a knob tells it to lie at one step. With no knobs they
 * complete the handshake with shoal (the tests check that too), so a test that
 * turns one knob proves shoal refuses exactly that lie.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  computeSecret,
  generateKeyPair,
} from '../../../../src/core/transport/mse/diffie-hellman.ts';
import { HandshakeReader } from '../../../../src/core/transport/mse/handshake-reader.ts';
import {
  mseCiphers,
  skeyHash,
  skeyMask,
  syncHash,
  xor20,
} from '../../../../src/core/transport/mse/mse-keys.ts';
import { CryptoMethod } from '../../../../src/core/transport/mse/policy.ts';

export interface FakeInitiatorKnobs {
  skey: Uint8Array;
  /** Replaces our public key Ya. */
  publicKey?: Uint8Array;
  /** Bytes of PadA (default 0; the spec allows up to 512). */
  padA?: number;
  /** Send this many random bytes instead of the sync hash and everything after it. */
  junkInsteadOfSync?: number;
  /** Stop after sending Ya: send nothing more, keep the connection open. */
  stallAfterYa?: boolean;
  /** Close the connection right after Ya. */
  closeAfterYa?: boolean;
  vc?: Uint8Array;
  provide?: number;
  /** The len(PadC) written (default 0); the pad itself is at most 512 bytes. */
  padCLength?: number;
  /** The len(IA) written (default: the IA's length). */
  iaLength?: number;
  ia?: Uint8Array;
}

/** Plays the initiator against shoal's receiver on `socket`; resolves when it has said its part. */
export async function fakeInitiator(socket: Duplex, knobs: FakeInitiatorKnobs): Promise<void> {
  const keyPair = generateKeyPair();
  socket.write(Buffer.concat([knobs.publicKey ?? keyPair.publicKey, randomBytes(knobs.padA ?? 0)]));
  if (knobs.closeAfterYa) return void socket.end();
  if (knobs.stallAfterYa) return;
  const reader = new HandshakeReader(socket);
  const secret = computeSecret(keyPair, await reader.read(96));
  if (knobs.junkInsteadOfSync !== undefined) {
    socket.write(randomBytes(knobs.junkInsteadOfSync));
    return;
  }
  const ciphers = mseCiphers(secret, knobs.skey, true);
  const ia = knobs.ia ?? new Uint8Array(0);
  const padC = Math.min(knobs.padCLength ?? 0, 512);
  const offer = Buffer.alloc(8 + 4 + 2 + padC + 2 + ia.length);
  offer.set(knobs.vc ?? new Uint8Array(8), 0);
  offer.writeUInt32BE(knobs.provide ?? CryptoMethod.rc4 | CryptoMethod.plaintext, 8);
  offer.writeUInt16BE(knobs.padCLength ?? 0, 12);
  offer.writeUInt16BE(knobs.iaLength ?? ia.length, 14 + padC);
  offer.set(ia, 16 + padC);
  socket.write(
    Buffer.concat([
      syncHash(secret),
      xor20(skeyHash(knobs.skey), skeyMask(secret)),
      ciphers.encrypt.update(offer),
    ]),
  );
  reader.release();
}

export interface FakeReceiverKnobs {
  skey: Uint8Array;
  publicKey?: Uint8Array;
  /** Bytes of PadB (default 0). */
  padB?: number;
  junkInsteadOfVc?: number;
  stallAfterYb?: boolean;
  select?: number;
  /** The len(PadD) written (default 0). */
  padDLength?: number;
  /**
   * Bytes sent in the same write as the end of the handshake, as the selected
   * method says (RC4 or plaintext): they reach the initiator in the read that
   * completes its handshake.
   */
  after?: Uint8Array;
}

/**
 * Plays the receiver against shoal's initiator; resolves with the method it
 * selected and the IA it read, once it has said its part.
 */
export async function fakeReceiver(
  socket: Duplex,
  knobs: FakeReceiverKnobs,
): Promise<{ ia: Buffer }> {
  const reader = new HandshakeReader(socket);
  const keyPair = generateKeyPair();
  const secret = computeSecret(keyPair, await reader.read(96));
  socket.write(Buffer.concat([knobs.publicKey ?? keyPair.publicKey, randomBytes(knobs.padB ?? 0)]));
  if (knobs.junkInsteadOfVc !== undefined) {
    socket.write(randomBytes(knobs.junkInsteadOfVc));
    return { ia: Buffer.alloc(0) };
  }
  if (knobs.stallAfterYb) return { ia: Buffer.alloc(0) };
  await reader.skipPast(syncHash(secret), 512 + 20);
  await reader.read(20);
  const ciphers = mseCiphers(secret, knobs.skey, false);
  const head = ciphers.decrypt.update(await reader.read(14));
  const padC = head.readUInt16BE(12);
  const iaLength = ciphers.decrypt.update(await reader.read(padC + 2)).readUInt16BE(padC);
  const ia = ciphers.decrypt.update(await reader.read(iaLength));
  const padD = Math.min(knobs.padDLength ?? 0, 512);
  const answer = Buffer.alloc(8 + 4 + 2 + padD);
  const select = knobs.select ?? CryptoMethod.rc4;
  answer.writeUInt32BE(select, 8);
  answer.writeUInt16BE(knobs.padDLength ?? 0, 12);
  const after = knobs.after ?? new Uint8Array(0);
  socket.write(
    Buffer.concat([
      ciphers.encrypt.update(answer),
      select === CryptoMethod.rc4 ? ciphers.encrypt.update(after) : after,
    ]),
  );
  reader.release();
  return { ia };
}
