/**
 * RC4, the stream cipher MSE uses, in TypeScript. Node's OpenSSL 3 has RC4
 * only in its legacy provider (`--openssl-legacy-provider`), and measured
 * here it is slower than this loop anyway (docs/ENCRYPTION.md: ~350 against
 * ~470 MiB per CPU second), so there is one implementation and no flag.
 * The tests check it against OpenSSL's keystream.
 */

export interface StreamCipher {
  /** Enciphers (or deciphers: the same operation) into a new buffer; `data` is left untouched. */
  update(data: Uint8Array): Buffer;
  /** The same, free to overwrite `data`: returns the result, which may be `data` itself. */
  updateInPlace(data: Buffer): Buffer;
  /** The same into `out` from `offset` on (room for all of `data`); `data` is left untouched. */
  updateInto(data: Uint8Array, out: Uint8Array, offset: number): void;
}

/** An RC4 keystream for `key`, its first `discard` bytes thrown away (MSE discards 1024). */
export function createRc4(key: Uint8Array, discard = 0): StreamCipher {
  const cipher = new JsRc4(key);
  if (discard > 0) cipher.updateInPlace(Buffer.alloc(discard));
  return cipher;
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

  updateInto(data: Uint8Array, out: Uint8Array, offset: number): void {
    this.#xorKeystream(data, offset === 0 ? out : out.subarray(offset, offset + data.length));
  }

  // The whole cost of RC4: kept to locals so V8 keeps i, j in registers.
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
