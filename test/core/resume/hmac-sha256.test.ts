import { createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from '../../../src/core/resume/hmac-sha256.ts';

/** Deterministic bytes, so a failure reproduces. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('HmacSha256', () => {
  it("gives createHmac's MAC for keys shorter than, equal to and longer than a block, in any split", () => {
    for (const keyLength of [0, 1, 32, 63, 64, 65, 200]) {
      const key = bytes(keyLength, keyLength + 7);
      for (let seed = 1; seed <= 20; seed++) {
        const message = bytes((seed * 37) % 300, seed);
        const cut = seed % (message.length + 1);
        const parts = [message.subarray(0, cut), message.subarray(cut)];
        const expected = createHmac('sha256', key).update(message).digest();
        expect(new HmacSha256(key).digest(...parts)).toEqual(expected);
        if (keyLength > 0)
          expect(new HmacSha256(createSecretKey(key)).digest(...parts)).toEqual(expected);
      }
    }
  });

  it('is keyed: another key gives another MAC', () => {
    const message = randomBytes(48);
    expect(new HmacSha256(randomBytes(32)).digest(message)).not.toEqual(
      new HmacSha256(randomBytes(32)).digest(message),
    );
  });
});
