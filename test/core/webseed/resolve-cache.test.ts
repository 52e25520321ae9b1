/** The web seed's name cache: one lookup per host per TTL, failures never remembered. */
import { describe, expect, it } from 'vitest';
import { cachedResolve } from '../../../src/core/webseed/resolve-cache.ts';

describe('cachedResolve', () => {
  it('asks once per host within the TTL, again after it, and never caches a failure', async () => {
    let t = 0;
    const asked: string[] = [];
    let failNext = false;
    const resolve = cachedResolve(
      1000,
      async (host) => {
        asked.push(host);
        if (failNext) {
          failNext = false;
          throw new Error('ENOTFOUND');
        }
        return [{ address: '127.0.0.1', family: 4 }];
      },
      () => t,
    );
    await resolve('a.test');
    await resolve('a.test');
    await resolve('b.test');
    expect(asked).toEqual(['a.test', 'b.test']);
    t = 1000;
    failNext = true;
    await expect(resolve('a.test')).rejects.toThrow('ENOTFOUND');
    expect(await resolve('a.test')).toEqual([{ address: '127.0.0.1', family: 4 }]);
    expect(asked).toEqual(['a.test', 'b.test', 'a.test', 'a.test']);
  });
});
