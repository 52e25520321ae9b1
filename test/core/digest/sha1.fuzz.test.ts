/**
 * The JavaScript SHA-1 that hashes small info dictionaries (src/core/hashing/sha1.ts)
 * against node:crypto: every length around the block and padding edges, and random
 * inputs on both sides of the size where sha1() hands over to node:crypto.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JS_SHA1_MAX_BYTES, sha1, sha1Js } from '../../../src/core/digest/sha1.ts';

const reference = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('sha1', () => {
  it('matches node:crypto for every length up to 300 bytes', () => {
    for (let length = 0; length <= 300; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
      expect(hex(sha1Js(bytes)), `length ${length}`).toBe(reference(bytes));
    }
  });

  it('matches node:crypto on random inputs, either side of the hand-over size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: JS_SHA1_MAX_BYTES + 4096 }), (bytes) => {
        expect(hex(sha1(bytes))).toBe(reference(bytes));
        expect(hex(sha1Js(bytes))).toBe(reference(bytes));
      }),
      { numRuns: 300 },
    );
  });
});
