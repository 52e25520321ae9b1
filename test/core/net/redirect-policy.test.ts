import { describe, expect, it } from 'vitest';
import { isLocalAddress, redirectRefusal } from '../../../src/core/net/redirect-policy.ts';

describe('isLocalAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '[::1]',
    '::',
    'fd00::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '64:ff9b::192.168.0.1',
    'localhost', // not an address: never counted as public
  ])('%s is local', (address) => {
    expect(isLocalAddress(address)).toBe(true);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '172.32.0.1',
    '172.15.255.255',
    '192.169.0.1',
    '11.0.0.1',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
  ])('%s is public', (address) => {
    expect(isLocalAddress(address)).toBe(false);
  });
});

describe('redirectRefusal', () => {
  it('lets a public tracker redirect only to public addresses', () => {
    expect(redirectRefusal(['93.184.216.34'], ['1.1.1.1'])).toBeNull();
    expect(redirectRefusal(['93.184.216.34'], ['127.0.0.1'])).toMatch(
      /public address 93\.184\.216\.34 redirected to local address 127\.0\.0\.1/,
    );
    expect(redirectRefusal(['93.184.216.34'], ['192.168.0.1'])).not.toBeNull();
    expect(redirectRefusal(['2001:db8::1'], ['::1'])).not.toBeNull();
    expect(redirectRefusal(['2606:4700::1'], ['::ffff:169.254.169.254'])).not.toBeNull();
  });

  it('lets a local tracker redirect anywhere', () => {
    expect(redirectRefusal(['127.0.0.1'], ['127.0.0.2'])).toBeNull();
    expect(redirectRefusal(['10.0.0.5'], ['192.168.1.9'])).toBeNull();
    expect(redirectRefusal(['::1', '127.0.0.1'], ['1.1.1.1'])).toBeNull();
  });

  it('judges a name with mixed addresses by the stricter reading', () => {
    // A tracker whose name also resolves to a local address is not thereby local...
    expect(redirectRefusal(['93.184.216.34', '127.0.0.1'], ['10.0.0.1'])).not.toBeNull();
    // ...and a target that resolves to any local address is local.
    expect(redirectRefusal(['93.184.216.34'], ['1.1.1.1', '127.0.0.1'])).toMatch(/127\.0\.0\.1/);
    expect(redirectRefusal(['93.184.216.34'], [])).not.toBeNull();
  });

  it('counts what `localhost` resolves to as local', async () => {
    const { lookup } = await import('node:dns/promises');
    const addresses = (await lookup('localhost', { all: true })).map((a) => a.address);
    expect(addresses.length).toBeGreaterThan(0);
    expect(redirectRefusal(['93.184.216.34'], addresses)).not.toBeNull();
  });

  it('behind a proxy (origin never resolved here) allows only targets that are public for certain', () => {
    expect(redirectRefusal(null, ['93.184.216.34'])).toBeNull();
    expect(redirectRefusal(null, ['10.0.0.1'])).toMatch(/local or unresolvable/);
    expect(redirectRefusal(null, ['93.184.216.34', '127.0.0.1'])).not.toBeNull();
    expect(redirectRefusal(null, [])).toMatch(/\(none\)/);
  });
});
