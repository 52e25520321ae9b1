/**
 * SHA-1 of a small input without node:crypto. Loading node:crypto costs about
 * 4 ms of a 25 ms process start (its module graph, not the hashing), more than
 * a plain `inspect` of a small torrent spends on everything else, and the
 * info-hash is often its only use. Short inputs (the info dictionary of a
 * typical torrent is a few kilobytes) are hashed here, in plain code that
 * stays fast before V8 has optimised it; larger ones go to node:crypto
 * (OpenSSL, with SHA instructions), loaded on first use.
 * test/core/hashing/sha1.fuzz.test.ts checks it against node:crypto.
 */

/** Inputs up to this size are hashed in JavaScript; above it loading OpenSSL costs less. */
export const JS_SHA1_MAX_BYTES = 16 * 1024;

/** SHA-1 digest (20 bytes) of `bytes`. */
export function sha1(bytes: Uint8Array): Uint8Array {
  if (bytes.length > JS_SHA1_MAX_BYTES) {
    const { createHash } = process.getBuiltinModule('node:crypto');
    return new Uint8Array(createHash('sha1').update(bytes).digest());
  }
  return sha1Js(bytes);
}

/** FIPS 180-4 SHA-1, one 64-byte block at a time. */
export function sha1Js(bytes: Uint8Array): Uint8Array {
  // Message plus 0x80, zero padding and the 64-bit big-endian bit length, in whole blocks.
  const blocks = Math.ceil((bytes.length + 9) / 64);
  const m = new Uint8Array(blocks * 64);
  m.set(bytes);
  m[bytes.length] = 0x80;
  const bits = bytes.length * 8;
  writeWord(m, m.length - 8, Math.floor(bits / 2 ** 32));
  writeWord(m, m.length - 4, bits);
  const h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];
  const w = new Int32Array(80);
  for (let offset = 0; offset < m.length; offset += 64) {
    for (let i = 0, o = offset; i < 16; i++, o += 4)
      w[i] = (m[o] << 24) | (m[o + 1] << 16) | (m[o + 2] << 8) | m[o + 3];
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16];
      w[i] = (x << 1) | (x >>> 31);
    }
    let [a, b, c, d, e] = h;
    // Four loops of 20 rounds, one per round function: no branch inside a round.
    for (let i = 0; i < 20; i++) {
      const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 20; i < 40; i++) {
      const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 40; i < 60; i++) {
      const t =
        (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 60; i < 80; i++) {
      const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + w[i]) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + b) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
  }
  const digest = new Uint8Array(20);
  for (let i = 0; i < 5; i++) writeWord(digest, i * 4, h[i]);
  return digest;
}

function writeWord(out: Uint8Array, at: number, word: number): void {
  out[at] = word >>> 24;
  out[at + 1] = word >>> 16;
  out[at + 2] = word >>> 8;
  out[at + 3] = word;
}
