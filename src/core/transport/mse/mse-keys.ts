/**
 * Everything MSE derives from the shared secret S and the stream key SKEY
 * (the torrent's info-hash, or a v2 info-hash truncated to 20 bytes):
 * HASH is SHA-1 over the concatenated arguments.
 */
import { createHash } from 'node:crypto';
import { createRc4, type StreamCipher } from './rc4.ts';

/** Both RC4 keystreams drop their first 1024 bytes (the spec's answer to RC4's weak start). */
const RC4_DISCARD = 1024;

function hash(label: string, ...parts: Uint8Array[]): Buffer {
  const sha1 = createHash('sha1').update(label);
  for (const part of parts) sha1.update(part);
  return sha1.digest();
}

/** HASH('req1', S): the initiator's sync marker, found by the receiver after PadA. */
export function syncHash(secret: Uint8Array): Buffer {
  return hash('req1', secret);
}

/** HASH('req2', SKEY): what identifies a torrent without naming its info-hash on the wire. */
export function skeyHash(skey: Uint8Array): Buffer {
  return hash('req2', skey);
}

/** HASH('req3', S): the mask the initiator xors over HASH('req2', SKEY). */
export function skeyMask(secret: Uint8Array): Buffer {
  return hash('req3', secret);
}

export function xor20(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(20);
  for (let i = 0; i < 20; i++) out[i] = a[i] ^ b[i];
  return out;
}

export interface MseCiphers {
  /** Enciphers what we send. */
  encrypt: StreamCipher;
  /** Deciphers what we receive. */
  decrypt: StreamCipher;
}

/**
 * The initiator (A) sends with HASH('keyA', S, SKEY) and receives with
 * HASH('keyB', S, SKEY); the receiver the other way round.
 */
export function mseCiphers(secret: Uint8Array, skey: Uint8Array, initiator: boolean): MseCiphers {
  const keyA = createRc4(hash('keyA', secret, skey), RC4_DISCARD);
  const keyB = createRc4(hash('keyB', secret, skey), RC4_DISCARD);
  return initiator ? { encrypt: keyA, decrypt: keyB } : { encrypt: keyB, decrypt: keyA };
}
