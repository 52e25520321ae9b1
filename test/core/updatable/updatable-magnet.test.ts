import { describe, expect, it } from 'vitest';
import { ExitCode, InputError } from '../../../src/core/errors.ts';
import {
  formatUpdatableMagnet,
  isUpdatableMagnet,
  parseUpdatableMagnet,
} from '../../../src/core/updatable/updatable-magnet.ts';

const key = '8543d3e6115f0f98c944077a4493dcd543e49c739fd998550a1f614ab36ed63e';

describe('BEP 46 magnet links', () => {
  it('reads the public key and salt (BEP 46 example) and writes them back', () => {
    const text = `magnet:?xs=urn:btpk:${key}&s=6e`;
    expect(isUpdatableMagnet(text)).toBe(true);
    const magnet = parseUpdatableMagnet(text);
    expect(magnet.publicKey.toString('hex')).toBe(key);
    expect(magnet.salt.toString()).toBe('n');
    expect(formatUpdatableMagnet(magnet)).toBe(text);
    expect(parseUpdatableMagnet(`MAGNET:?xs=urn:btpk:${key.toUpperCase()}`).salt).toHaveLength(0);
    expect(formatUpdatableMagnet(parseUpdatableMagnet(`magnet:?xs=urn:btpk:${key}`))).toBe(
      `magnet:?xs=urn:btpk:${key}`,
    );
    expect(
      parseUpdatableMagnet(`magnet:?dn=x&xs=urn%3Abtpk%3A${key}&tr=udp://t:1&s=`).publicKey,
    ).toHaveLength(32);
  });

  it('tells updatable magnets from ordinary ones', () => {
    expect(isUpdatableMagnet(`magnet:?xt=urn:btih:${'a'.repeat(40)}`)).toBe(false);
    expect(isUpdatableMagnet(`https://example.org/?xs=urn:btpk:${key}`)).toBe(false);
  });

  it.each([
    ['magnet:?xt=urn:btih:' + 'a'.repeat(40), 'no xs=urn:btpk'],
    [`magnet:?xs=urn:btpk:${key.slice(2)}`, '64 hex characters'],
    [`magnet:?xs=urn:btpk:${key}zz`, '64 hex characters'],
    [`magnet:?xs=urn:btpk:${key}&xs=urn:btpk:${key}`, 'more than one public key'],
    [`magnet:?xs=urn:btpk:${key}&s=abc`, 'must be hex'],
    [`magnet:?xs=urn:btpk:${key}&s=zz`, 'must be hex'],
    [`magnet:?xs=urn:btpk:${key}&s=00&s=01`, 'more than one salt'],
    [`magnet:?xs=urn:btpk:${key}&s=${'ab'.repeat(65)}`, 'longer than 64 bytes'],
    [`magnet:?xs=urn:btpk:${key}&s=${'a'.repeat(9000)}`, 'too long'],
  ])('refuses %s', (text, why) => {
    let caught: unknown;
    try {
      parseUpdatableMagnet(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).exitCode).toBe(ExitCode.badInput);
    expect((caught as InputError).message).toContain(why);
  });
});
