/**
 * ed25519 keys for updatable torrents (BEP 44 mutable items, BEP 46). The
 * key file is PKCS#8 PEM (what `openssl genpkey -algorithm ed25519` writes),
 * created exclusively with mode 0600: a publisher's key is never overwritten,
 * and never readable by other users, not even for an instant.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { diskErrorFrom, InputError, UsageError } from '../errors.ts';

export interface SigningKey {
  /** The raw 32-byte ed25519 public key (BEP 44 `k`). */
  publicKey: Buffer;
  /** Signs `data` (64-byte ed25519 signature). */
  sign(data: Uint8Array): Buffer;
}

/** A PEM key is a few hundred bytes; anything much bigger is not a key file. */
const MAX_KEY_FILE = 16 * 1024;

/** The DER prefix of an ed25519 SubjectPublicKeyInfo; the raw key follows it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** Creates a new key at `path` (never replacing a file) and returns its public key. */
export async function createKeyFile(path: string): Promise<Buffer> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  let handle;
  try {
    handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${path} already exists: shoal never overwrites a key file`);
    }
    throw diskErrorFrom(error, 'create', path);
  }
  try {
    // The umask can only narrow 0600, but say it explicitly in case it was odd.
    await handle.chmod(0o600);
    await handle.writeFile(pem);
    await handle.sync();
  } catch (error) {
    throw diskErrorFrom(error, 'write', path);
  } finally {
    await handle.close();
  }
  return rawPublicKey(privateKey);
}

/** Reads a key file written by createKeyFile (or openssl); InputError (exit 3) if it is not one. */
export async function readKeyFile(path: string): Promise<SigningKey> {
  let text: string;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new InputError(`${path} is not a key file`);
    if (info.size > MAX_KEY_FILE) throw new InputError(`${path} is too large to be a key file`);
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof InputError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError(`no such key file: ${path} (make one with shoal keygen -o ${path})`);
    }
    throw diskErrorFrom(error, 'read', path);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch {
    throw new InputError(`${path} is not a private key file (expected PEM from shoal keygen)`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new InputError(`${path} holds a ${privateKey.asymmetricKeyType} key, not ed25519`);
  }
  return {
    publicKey: rawPublicKey(privateKey),
    sign: (data) => sign(null, data, privateKey),
  };
}

/** BEP 44 signature check: true only for a valid signature of `data` by the raw 32-byte `publicKey`. */
export function verifyEd25519(
  signature: Uint8Array,
  data: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    const key = createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, data, key, signature);
  } catch {
    // Not a point on the curve: no signature by it is valid.
    return false;
  }
}

function rawPublicKey(privateKey: KeyObject): Buffer {
  const der = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  return der.subarray(SPKI_PREFIX.length);
}
