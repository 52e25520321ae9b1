/**
 * The receipt lists the peers that supplied data, each with its bytes, and
 * leaves out peers that were met but sent nothing.
 */
import { describe, expect, it } from 'vitest';
import { buildReceipt } from '../../../src/core/script/receipt.ts';

describe('buildReceipt', () => {
  it('lists only the peers that sent bytes, with their counts', () => {
    const receipt = buildReceipt({
      meta: { name: 'x', infoHash: new Uint8Array(20).fill(1), infoHashV2: null },
      files: [],
      peerBytes: 300,
      webSeedBytes: 0,
      peers: new Map([
        ['127.0.0.1:1', 'libtorrent 2.0'],
        ['127.0.0.1:2', 'idle peer'],
        ['[::1]:3', 'shoal 0.1.0'],
      ]),
      bytesByPeer: new Map([
        ['127.0.0.1:1', 200],
        ['[::1]:3', 100],
        ['http://mirror/', 999],
      ]),
      startedAt: new Date(0),
      endedAt: new Date(1000),
      version: '0.1.0',
    });
    expect(receipt.peers).toEqual([
      { address: '127.0.0.1:1', client: 'libtorrent 2.0', bytes: 200 },
      { address: '[::1]:3', client: 'shoal 0.1.0', bytes: 100 },
    ]);
    expect(receipt.bytes).toEqual({ peers: 300, webSeeds: 0 });
  });
});
