import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseCompactPeers6 } from '../../../src/core/net/compact-peers.ts';
import { validatePeer } from '../../../src/core/net/peer-address.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 200);

describe('validatePeer', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::ffff:10.0.0.1', '10.0.0.1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1::', '1::'],
    ['::1.2.3.4', '::102:304'],
  ])('canonicalises %s', (input, output) => {
    expect(validatePeer(input, 1)).toEqual({ host: output, port: 1 });
  });

  it.each([
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    ' 1.2.3.4',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    'fe80::1%eth0',
    '',
    '[::1]',
  ])('refuses %j', (input) => {
    expect(validatePeer(input, 1)).toBeNull();
  });

  it('agrees with the compact formatter on random IPv6 addresses', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (address) => {
        const compact = parseCompactPeers6(Uint8Array.from([...address, 0, 1]));
        if (compact.length === 0) return;
        // Formatting then re-parsing the text must be a fixed point.
        expect(validatePeer(compact[0]!.host, 1)).toEqual(compact[0]);
        expect(new URL(`http://[${compact[0]!.host}]/`).hostname).toBe(`[${compact[0]!.host}]`);
      }),
      { numRuns: runs },
    );
  });
});
