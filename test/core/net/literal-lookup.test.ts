/**
 * literalLookup (src/core/net/literal-lookup.ts), the resolver of shoal's UDP
 * sockets: IP addresses come back as they are, with their family, whatever
 * family the socket asked for (as dns.lookup answers a literal); host names
 * are still resolved; and a UDP socket using it binds and delivers datagrams.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { literalLookup } from '../../../src/core/net/literal-lookup.ts';

function lookup(address: string, family: number): Promise<[string, number]> {
  return new Promise((resolve, reject) =>
    literalLookup(address, family, (error, found, foundFamily) =>
      error ? reject(error) : resolve([found, foundFamily]),
    ),
  );
}

describe('literalLookup', () => {
  it.each([
    ['::', 6, ['::', 6]],
    ['::1', 4, ['::1', 6]],
    ['ff15::efc0:988f', 6, ['ff15::efc0:988f', 6]],
    ['fe80::1%lo', 6, ['fe80::1%lo', 6]],
    ['0.0.0.0', 4, ['0.0.0.0', 4]],
    ['127.0.0.1', 6, ['127.0.0.1', 4]],
    ['239.192.152.143', 4, ['239.192.152.143', 4]],
  ])('answers %s (asked for IPv%i) as it is', async (address, family, expected) => {
    expect(await lookup(address, family)).toEqual(expected);
  });

  it('resolves a host name', async () => {
    const [address, family] = await lookup('localhost', 4);
    expect([address, family]).toEqual(['127.0.0.1', 4]);
  });

  it('serves a UDP socket: bind to the wildcard, send to loopback', async () => {
    const receiver = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
    const sender = dgram.createSocket({ type: 'udp4', lookup: literalLookup });
    try {
      await new Promise<void>((resolve) => receiver.bind(0, '0.0.0.0', resolve));
      const got = new Promise<string>((resolve) =>
        receiver.once('message', (message) => resolve(message.toString())),
      );
      sender.send('hello', receiver.address().port, '127.0.0.1');
      expect(await got).toBe('hello');
    } finally {
      receiver.close();
      sender.close();
    }
  });
});
