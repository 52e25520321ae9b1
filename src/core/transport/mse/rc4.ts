/**
 * RC4, the stream cipher MSE uses. Two backends behind one interface:
 * - OpenSSL's, through `crypto.createCipheriv('rc4', ...)`. OpenSSL 3 keeps
 *   RC4 in its legacy provider, which Node loads only when started with
 *   `--openssl-legacy-provider`; without it the call throws.
 * - A pure TypeScript one, used when OpenSSL refuses. RC4 is a few lines
 *   (docs/ENCRYPTION.md has the throughput of both).
 * The backend is probed once, at first use, and kept for the process.
 */
import { createCipheriv } from 'node:crypto';

export interface StreamCipher {
  /** Enciphers (or deciphers: the same operation) into a new buffer; `data` is left untouched. */
  update(data: Uint8Array): Buffer;
  /** The same, free to overwrite `data`: returns the result, which may be `data` itself. */
  updateInPlace(data: Buffer): Buffer;
}

export type Rc4Backend = 'openssl' | 'js';

let probed: Rc4Backend | undefined;

/** Which backend `createRc4` uses in this process. */
export function rc4Backend(): Rc4Backend {
  if (probed === undefined) {
    try {
      createCipheriv('rc4', Buffer.alloc(16), null);
      probed = 'openssl';
    } catch {
      probed = 'js';
    }
  }
  return probed;
}

/** An RC4 keystream for `key`, its first `discard` bytes thrown away (MSE discards 1024). */
export function createRc4(key: Uint8Array, discard = 0, backend = rc4Backend()): StreamCipher {
  const cipher = backend === 'openssl' ? new OpensslRc4(key) : new JsRc4(key);
  if (discard > 0) cipher.updateInPlace(Buffer.alloc(discard));
  return cipher;
}

class OpensslRc4 implements StreamCipher {
  readonly #cipher;
  constructor(key: Uint8Array) {
    this.#cipher = createCipheriv('rc4', key, null);
  }
  update(data: Uint8Array): Buffer {
    return this.#cipher.update(data);
  }
  updateInPlace(data: Buffer): Buffer {
    // OpenSSL cannot write into our buffer through Node's API: a fresh one is the cheapest.
    return this.#cipher.update(data);
  }
}

export class JsRc4 implements StreamCipher {
  // Int32Array, not Uint8Array: ~15% faster here (no byte loads and stores in the loop).
  readonly #s = new Int32Array(256);
  #i = 0;
  #j = 0;

  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError('RC4 key must be 1..256 bytes');
    const s = this.#s;
    for (let n = 0; n < 256; n++) s[n] = n;
    let j = 0;
    for (let n = 0; n < 256; n++) {
      const sn = s[n];
      j = (j + sn + key[n % key.length]) & 0xff;
      s[n] = s[j];
      s[j] = sn;
    }
  }

  update(data: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(data.length);
    this.#xorKeystream(data, out);
    return out;
  }

  updateInPlace(data: Buffer): Buffer {
    this.#xorKeystream(data, data);
    return data;
  }

  // The whole cost of the JS backend: kept to locals so V8 keeps i, j in registers.
  #xorKeystream(input: Uint8Array, output: Uint8Array): void {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    const n = input.length;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 0xff;
      const si = s[i];
      j = (j + si) & 0xff;
      const sj = s[j];
      s[i] = sj;
      s[j] = si;
      output[k] = input[k] ^ s[(si + sj) & 0xff];
    }
    this.#i = i;
    this.#j = j;
  }
}
