/**
 * BEP 46 magnet links: `magnet:?xs=urn:btpk:<public key hex>&s=<salt hex>`,
 * naming the latest torrent a key holder published rather than one torrent.
 * Pure. Kept apart from metainfo/magnet.ts, which parses `xt` magnets.
 */
import { InputError } from '../errors.ts';

export interface UpdatableMagnet {
  /** The publisher's raw ed25519 public key, 32 bytes. */
  publicKey: Buffer;
  /** BEP 44 salt (0 to 64 bytes): one key can publish several torrents, one per salt. */
  salt: Buffer;
}

/** BEP 44 caps the salt at 64 bytes. */
export const MAX_SALT_BYTES = 64;
/** Far longer than any real BEP 46 magnet; bounds the work on hostile input. */
const MAX_MAGNET_LENGTH = 8192;

/** Whether `text` is a BEP 46 magnet (it has an `xs=urn:btpk:` parameter). */
export function isUpdatableMagnet(text: string): boolean {
  return /^magnet:\?/i.test(text) && /[?&]xs=urn(:|%3a)btpk(:|%3a)/i.test(text);
}

/** Parses a BEP 46 magnet; InputError (exit 3) saying what is wrong otherwise. */
export function parseUpdatableMagnet(text: string): UpdatableMagnet {
  const bad = (why: string) => new InputError(`invalid updatable magnet link: ${why}`);
  if (text.length > MAX_MAGNET_LENGTH) throw bad('too long');
  if (!/^magnet:\?/i.test(text)) throw bad('it does not start with magnet:?');
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(text.slice(text.indexOf('?') + 1));
  } catch {
    throw bad('malformed query');
  }
  const keys = params.getAll('xs').filter((value) => /^urn:btpk:/i.test(value));
  if (keys.length === 0) throw bad('no xs=urn:btpk:<public key> parameter');
  if (keys.length > 1) throw bad('more than one public key');
  const keyHex = keys[0]!.slice('urn:btpk:'.length);
  if (!/^[0-9a-f]{64}$/i.test(keyHex)) throw bad('the public key must be 64 hex characters');
  const salts = params.getAll('s');
  if (salts.length > 1) throw bad('more than one salt (s=)');
  const saltHex = salts[0] ?? '';
  if (!/^([0-9a-f]{2})*$/i.test(saltHex)) throw bad('the salt (s=) must be hex');
  if (saltHex.length > MAX_SALT_BYTES * 2)
    throw bad(`the salt is longer than ${MAX_SALT_BYTES} bytes`);
  return { publicKey: Buffer.from(keyHex, 'hex'), salt: Buffer.from(saltHex, 'hex') };
}

/** The magnet `shoal publish` prints. */
export function formatUpdatableMagnet(magnet: UpdatableMagnet): string {
  const salt = magnet.salt.length > 0 ? `&s=${magnet.salt.toString('hex')}` : '';
  return `magnet:?xs=urn:btpk:${magnet.publicKey.toString('hex')}${salt}`;
}
