/**
 * A torrent whose info dictionary is larger than ut_metadata can carry
 * (16 MiB: a v1 torrent of a million 16 KiB pieces has a 20 MiB one) still
 * downloads and seeds: shoal just does not offer its metadata to peers.
 * Before, building the session's extensions threw a RangeError and every
 * download or seed of such a torrent stopped with "internal error".
 */
import { describe, expect, it } from 'vitest';
import { PeerExtensions, type ExtensionPeer } from '../../../src/core/session/peer-extensions.ts';
import { MAX_METADATA_SIZE } from '../../../src/core/metadata/ut-metadata-codec.ts';
import { decodeExtendedHandshake } from '../../../src/core/wire/extension.ts';
import { encodeBencode } from '../../../src/core/bencode/index.ts';

function extensions(infoSize: number): PeerExtensions {
  return new PeerExtensions({
    infoBytes: new Uint8Array(infoSize),
    isPrivate: true,
    clientName: 'test',
    maxRequests: 250,
    port: () => 6881,
    addPeers: () => {},
    ownIpv6: () => undefined,
  });
}

describe('an info dictionary over the ut_metadata limit', () => {
  it('is not offered (no ut_metadata, no metadata_size) and a request for it gets no answer', () => {
    const ours = extensions(MAX_METADATA_SIZE + 1);
    const sent = decodeExtendedHandshake(ours.handshake());
    expect(sent.m.has('ut_metadata')).toBe(false);
    expect(sent.metadataSize).toBeUndefined();
    const replies: unknown[] = [];
    const peer: ExtensionPeer = {
      key: '127.0.0.1:1',
      address: { host: '127.0.0.1', port: 1 },
      outgoing: true,
      seed: false,
      extended: decodeExtendedHandshake(
        encodeBencode(new Map(Object.entries({ m: { ut_metadata: 3 } }))),
      ),
      send: (message) => replies.push(message),
    };
    // msg_type 0 (request) for piece 0, sent to the id we would have used for ut_metadata.
    ours.onMessage(peer, 2, encodeBencode({ msg_type: 0, piece: 0 }));
    ours.onMessage(peer, 1, encodeBencode({ msg_type: 0, piece: 0 }));
    expect(replies).toEqual([]);
  });

  it('up to the limit, it is offered as before', () => {
    const sent = decodeExtendedHandshake(extensions(MAX_METADATA_SIZE).handshake());
    expect(sent.m.has('ut_metadata')).toBe(true);
    expect(sent.metadataSize).toBe(MAX_METADATA_SIZE);
  });
});
