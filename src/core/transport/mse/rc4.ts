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

/** Whether a 32-bit word's first byte in memory is its lowest (all but big-endian machines). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** Below this many bytes the word loop's set-up is not worth it. */
const WORDS_FROM = 64;

/**
 * A new buffer of `length` bytes whose start has the same alignment (mod 4)
 * as `like`: enciphering `like` into it can then run a word at a time.
 */
export function allocAlignedLike(length: number, likeByteOffset: number): Buffer {
  if (length < WORDS_FROM) return Buffer.allocUnsafe(length);
  const room = Buffer.allocUnsafe(length + 3);
  const start = (likeByteOffset - room.byteOffset) & 3;
  return room.subarray(start, start + length);
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
    const out = allocAlignedLike(data.length, data.byteOffset);
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

  /**
   * output = input xor keystream. Four bytes at a time (one 32-bit load and
   * store instead of four byte ones: ~1.5x faster, docs/ENCRYPTION.md) when
   * input and output are equally aligned, which shoal arranges: reads land at
   * the start of the shared read buffer and are deciphered in place, and
   * writes are enciphered into buffers made by `allocAlignedLike`.
   */
  #xorKeystream(input: Uint8Array, output: Uint8Array): void {
    const n = input.length;
    if (!LITTLE_ENDIAN || n < WORDS_FROM || ((input.byteOffset - output.byteOffset) & 3) !== 0) {
      this.#bytes(input, output, 0, n);
      return;
    }
    const head = (4 - (output.byteOffset & 3)) & 3;
    const words = (n - head) >> 2;
    this.#bytes(input, output, 0, head);
    const inputWords = new Int32Array(input.buffer, input.byteOffset + head, words);
    const outputWords =
      input.buffer === output.buffer && input.byteOffset === output.byteOffset
        ? inputWords
        : new Int32Array(output.buffer, output.byteOffset + head, words);
    this.#words(inputWords, outputWords);
    this.#bytes(input, output, head + words * 4, n);
  }

  // The whole cost of RC4: kept to locals so V8 keeps i, j in registers.
  #bytes(input: Uint8Array, output: Uint8Array, from: number, to: number): void {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    for (let k = from; k < to; k++) {
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

  /** The same four keystream bytes at a time, lowest byte first (little-endian words). */
  #words(input: Int32Array, output: Int32Array): void {
    const s = this.#s;
    let i = this.#i;
    let j = this.#j;
    const n = input.length;
    for (let w = 0; w < n; w++) {
      i = (i + 1) & 0xff;
      let si = s[i];
      j = (j + si) & 0xff;
      let sj = s[j];
      s[i] = sj;
      s[j] = si;
      let key = s[(si + sj) & 0xff];
      i = (i + 1) & 0xff;
      si = s[i];
      j = (j + si) & 0xff;
      sj = s[j];
      s[i] = sj;
      s[j] = si;
      key |= s[(si + sj) & 0xff] << 8;
      i = (i + 1) & 0xff;
      si = s[i];
      j = (j + si) & 0xff;
      sj = s[j];
      s[i] = sj;
      s[j] = si;
      key |= s[(si + sj) & 0xff] << 16;
      i = (i + 1) & 0xff;
      si = s[i];
      j = (j + si) & 0xff;
      sj = s[j];
      s[i] = sj;
      s[j] = si;
      key |= s[(si + sj) & 0xff] << 24;
      output[w] = input[w] ^ key;
    }
    this.#i = i;
    this.#j = j;
  }
}
