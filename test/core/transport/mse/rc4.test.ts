/**
 * RC4 against published test vectors and against OpenSSL's RC4 (in a Node
 * started with --openssl-legacy-provider), whatever the chunking of the input.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allocAlignedLike, createRc4, JsRc4 } from '../../../../src/core/transport/mse/rc4.ts';

/** RC4 a byte at a time, straight from the definition: the reference for the word loop. */
function referenceRc4(key: Uint8Array, data: Uint8Array): Buffer {
  const s = Array.from({ length: 256 }, (_, n) => n);
  let j = 0;
  for (let n = 0; n < 256; n++) {
    j = (j + s[n]! + key[n % key.length]!) & 0xff;
    [s[n], s[j]] = [s[j]!, s[n]!];
  }
  const out = Buffer.alloc(data.length);
  let i = 0;
  j = 0;
  for (let k = 0; k < data.length; k++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    [s[i], s[j]] = [s[j]!, s[i]!];
    out[k] = data[k]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  return out;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const node24 = path.resolve(here, '../../../../node_modules/.bin/node');

describe('RC4', () => {
  it.each([
    ['Key', 'Plaintext', 'bbf316e8d940af0ad3'],
    ['Wiki', 'pedia', '1021bf0420'],
    ['Secret', 'Attack at dawn', '45a01f645fc35b383552544b9bf5'],
  ])('key %s, plaintext %s gives the published ciphertext', (key, plaintext, hex) => {
    const cipher = new JsRc4(Buffer.from(key));
    expect(cipher.update(Buffer.from(plaintext)).toString('hex')).toBe(hex);
  });

  it('deciphers what it enciphered, in any chunking, in place or not', () => {
    const key = randomBytes(20);
    const data = randomBytes(100_000);
    const encrypted = createRc4(key, 1024).update(data);
    expect(encrypted.equals(data)).toBe(false);
    const decrypt = createRc4(key, 1024);
    const parts: Buffer[] = [];
    for (let at = 0, size = 1; at < encrypted.length; at += size, size = size * 3 + 1) {
      const chunk = Buffer.from(encrypted.subarray(at, at + size));
      parts.push(size % 2 ? decrypt.updateInPlace(chunk) : decrypt.update(chunk));
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
  });

  it('`update` leaves its input untouched; `updateInPlace` overwrites it', () => {
    const input = Buffer.alloc(64, 7);
    createRc4(Buffer.from('k'), 0).update(input);
    expect(input.every((b) => b === 7)).toBe(true);
    const out = createRc4(Buffer.from('k'), 0).updateInPlace(input);
    expect(out).toBe(input);
    expect(input.every((b) => b === 7)).toBe(false);
  });

  it('`updateInto` enciphers several inputs into one buffer as `update` would, inputs untouched', () => {
    const key = randomBytes(20);
    const inputs = [randomBytes(13), randomBytes(16_384), randomBytes(1)];
    const expected = createRc4(key, 1024).update(Buffer.concat(inputs));
    const copies = inputs.map((input) => Buffer.from(input));
    const out = Buffer.alloc(expected.length + 4, 0xee);
    const cipher = createRc4(key, 1024);
    let offset = 2;
    for (const input of inputs) {
      cipher.updateInto(input, out, offset);
      offset += input.length;
    }
    expect(out.subarray(2, 2 + expected.length).equals(expected)).toBe(true);
    expect([...out.subarray(0, 2), ...out.subarray(2 + expected.length)]).toEqual([
      0xee, 0xee, 0xee, 0xee,
    ]);
    expect(inputs.every((input, i) => input.equals(copies[i]!))).toBe(true);
  });

  it('matches the byte-at-a-time definition at every alignment of input and output, in any chunking', () => {
    const key = randomBytes(16);
    const data = randomBytes(70_000);
    const expected = referenceRc4(key, data);
    // Chunks of every size class around the word loop's threshold, at every offset mod 4.
    const sizes = [1, 3, 63, 64, 65, 66, 67, 1000, 16_397, 4, 2, 5000];
    for (let inShift = 0; inShift < 4; inShift++) {
      for (let outShift = 0; outShift < 4; outShift++) {
        const cipher = createRc4(key);
        const inRoom = Buffer.alloc(data.length + 4);
        data.copy(inRoom, inShift);
        const input = inRoom.subarray(inShift, inShift + data.length);
        const outRoom = Buffer.alloc(data.length + 4);
        let at = 0;
        for (let n = 0; at < data.length; n++) {
          const size = Math.min(sizes[n % sizes.length]!, data.length - at);
          cipher.updateInto(input.subarray(at, at + size), outRoom, outShift + at);
          at += size;
        }
        const got = outRoom.subarray(outShift, outShift + data.length);
        expect(got.equals(expected), `input at +${inShift}, output at +${outShift}`).toBe(true);
        expect(input.equals(data)).toBe(true);
      }
    }
    const inPlace = Buffer.alloc(data.length + 1);
    data.copy(inPlace, 1);
    createRc4(key).updateInPlace(inPlace.subarray(1));
    expect(inPlace.subarray(1).equals(expected)).toBe(true);
  });

  it('allocAlignedLike gives a buffer starting at the same offset mod 4 as the one named', () => {
    for (let like = -5; like < 9; like++) {
      const buffer = allocAlignedLike(1000, like);
      expect(buffer.length).toBe(1000);
      expect((buffer.byteOffset - like) & 3).toBe(0);
    }
  });

  it('gives the keystream of OpenSSL RC4 (legacy provider), first 1024 bytes discarded', () => {
    const key = randomBytes(20);
    const script = `
      import { createCipheriv } from 'node:crypto';
      const rc4 = createCipheriv('rc4', Buffer.from(${JSON.stringify(key.toString('hex'))}, 'hex'), null);
      process.stdout.write(rc4.update(Buffer.alloc(1024 + 5000)).subarray(1024).toString('hex'));`;
    const output = execFileSync(
      node24,
      ['--openssl-legacy-provider', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    expect(createRc4(key, 1024).update(Buffer.alloc(5000)).toString('hex')).toBe(output);
  });
});
