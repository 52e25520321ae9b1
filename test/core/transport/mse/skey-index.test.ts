import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SkeyIndex } from '../../../../src/core/transport/mse/skey-index.ts';

const req2 = (skey: Uint8Array) => createHash('sha1').update('req2').update(skey).digest();

describe('SkeyIndex: finding the torrent of an incoming MSE connection', () => {
  it('finds each of 10 000 torrents by HASH(req2, SKEY), and nothing else', () => {
    const index = new SkeyIndex();
    const skeys = Array.from({ length: 10_000 }, () => randomBytes(20));
    for (const skey of skeys) index.add(skey);
    expect(index.size).toBe(10_000);
    for (const skey of [skeys[0], skeys[4321], skeys[9999]]) {
      expect(Buffer.from(index.lookup(req2(skey))!)).toEqual(skey);
    }
    expect(index.lookup(req2(randomBytes(20)))).toBeUndefined();
    // The info-hash itself is not what the wire carries.
    expect(index.lookup(skeys[0])).toBeUndefined();
  });

  it('finds a hybrid torrent by either of its stream keys, and forgets a removed one', () => {
    const index = new SkeyIndex();
    const v1 = randomBytes(20);
    const v2Truncated = randomBytes(32).subarray(0, 20);
    index.add(v1);
    index.add(v2Truncated);
    expect(Buffer.from(index.lookup(req2(v2Truncated))!)).toEqual(Buffer.from(v2Truncated));
    index.delete(v1);
    expect(index.lookup(req2(v1))).toBeUndefined();
    expect(index.size).toBe(1);
  });

  it('refuses a stream key that is not 20 bytes', () => {
    expect(() => new SkeyIndex().add(randomBytes(32))).toThrow(RangeError);
  });
});
