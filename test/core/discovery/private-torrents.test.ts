/**
 * BEP 27: a private torrent gets peers from its trackers only: no DHT, no PEX
 * (neither offered in the extension handshake nor accepted from peers).
 */
import { describe, expect, it } from 'vitest';
import { DhtDiscovery } from '../../../src/core/discovery/dht-discovery.ts';
import { LOCAL_EXTENSION_IDS } from '../../../src/core/metadata/index.ts';
import { encodePex } from '../../../src/core/pex/index.ts';
import { buildDiscoveries } from '../../../src/core/discovery/build-discoveries.ts';
import { PeerExtensions, type ExtensionPeer } from '../../../src/core/session/peer-extensions.ts';
import type { PeerAddress } from '../../../src/core/net/peer-address.ts';
import { decodeExtendedHandshake } from '../../../src/core/wire/extension.ts';

const infoBytes = new TextEncoder().encode('d4:name1:xe');

function extensions(isPrivate: boolean, learned: PeerAddress[]) {
  return new PeerExtensions({
    infoBytes,
    isPrivate,
    clientName: 'shoal test',
    maxRequests: 500,
    port: () => 6881,
    addPeers: (peers) => learned.push(...peers),
  });
}

const peer: ExtensionPeer = {
  key: '10.0.0.1:6881',
  address: { host: '10.0.0.1', port: 6881 },
  outgoing: true,
  seed: false,
  extended: null,
  send: () => {},
};

describe('private torrents', () => {
  it('never use the DHT, even when asked for', () => {
    const choices = { trackers: [['http://tracker.example/announce']], peers: [], dht: {} };
    expect(
      buildDiscoveries({ ...choices, isPrivate: true }).some((d) => d instanceof DhtDiscovery),
    ).toBe(false);
    expect(
      buildDiscoveries({ ...choices, isPrivate: false }).some((d) => d instanceof DhtDiscovery),
    ).toBe(true);
  });

  it('neither offer nor accept PEX', () => {
    const pex = encodePex({ added: [{ host: '10.0.0.9', port: 7000, flags: 0 }], dropped: [] });

    const learnedPrivate: PeerAddress[] = [];
    const closed = extensions(true, learnedPrivate);
    expect(decodeExtendedHandshake(closed.handshake()).m.has('ut_pex')).toBe(false);
    closed.onMessage(peer, LOCAL_EXTENSION_IDS.ut_pex, pex);
    expect(learnedPrivate).toEqual([]);

    const learnedPublic: PeerAddress[] = [];
    const open = extensions(false, learnedPublic);
    expect(decodeExtendedHandshake(open.handshake()).m.has('ut_pex')).toBe(true);
    open.onMessage(peer, LOCAL_EXTENSION_IDS.ut_pex, pex);
    expect(learnedPublic).toEqual([{ host: '10.0.0.9', port: 7000 }]);
  });
});
