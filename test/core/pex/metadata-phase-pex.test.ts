// Issue #15 item 9 while a magnet link's metadata is fetched: a peer flooding
// ut_pex gets one message taken, as in the download itself (PexIntake).
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  fetchMetadata,
  LOCAL_EXTENSION_IDS,
  type MetadataEvent,
} from '../../../src/core/metadata/fetch-metadata.ts';
import { encodePex, UT_PEX, type PexPeer } from '../../../src/core/pex/index.ts';
import { staticPeers } from '../../../src/core/discovery/discovery.ts';
import { encodeExtendedHandshake } from '../../../src/core/wire/extension.ts';
import { FakePeer } from '../../hostile/fake-peer.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** Message `m`: 200 addresses never seen before, closed ports on 127.8.m.x (loopback: dials stay here). */
function pexMessage(m: number): Uint8Array {
  const added: PexPeer[] = [];
  for (let i = 1; i <= 200; i++)
    added.push({ host: `127.8.${m}.${i}`, port: 20_000 + m, flags: 0 });
  return encodePex({ added, dropped: [] });
}

describe('PEX while fetching metadata', () => {
  it('takes one message from a peer that floods them', async () => {
    const infoHash = randomBytes(20);
    const flooder = await FakePeer.start(infoHash, {
      extensionProtocol: true,
      onConnect(peer) {
        // A ut_pex peer without the metadata: kept only to hear its PEX.
        const handshake = encodeExtendedHandshake({ m: { [UT_PEX]: 7 }, v: 'pex flooder' });
        peer.send({ type: 'extended', id: 0, payload: handshake });
        for (let m = 0; m < 200; m++)
          peer.send({ type: 'extended', id: LOCAL_EXTENSION_IDS[UT_PEX], payload: pexMessage(m) });
      },
    });
    stops.push(() => flooder.stop());

    const events: MetadataEvent[] = [];
    const abort = new AbortController();
    const fetching = fetchMetadata({
      infoHash,
      peerId: randomBytes(20),
      discoveries: [staticPeers([{ host: '127.0.0.1', port: flooder.port }])],
      signal: abort.signal,
      timeoutMs: 20_000,
      onEvent: (event) => events.push(event),
    }).catch(() => null);
    // Give shoal ample time to read the whole flood (about 280 KB over loopback), then stop.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    abort.abort();
    await fetching;

    const fromPex = events.filter((e) => e.type === 'peers-found' && e.source.startsWith('pex'));
    expect(flooder.connections).toBeGreaterThan(0);
    expect(fromPex).toHaveLength(1);
    expect(fromPex[0]!.type === 'peers-found' && fromPex[0]!.count).toBeLessThanOrEqual(50);
  });
});
