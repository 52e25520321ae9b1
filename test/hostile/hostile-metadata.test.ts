/**
 * Magnet metadata (BEP 9) against peers that lie about it: whatever a hostile
 * peer announces or sends, metadata from an honest peer beside it must still
 * come in. The honest peer is a real python3-libtorrent seeder.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { createTorrent } from '../../src/core/create/build-torrent.ts';
import { HashPool } from '../../src/core/hashing/pool.ts';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import { fetchMetadata, type MetadataEvent } from '../../src/core/metadata/fetch-metadata.ts';
import { UT_METADATA } from '../../src/core/metadata/ut-metadata-codec.ts';
import type { DiscoveryContext, PeerDiscovery } from '../../src/core/discovery/discovery.ts';
import { encodeExtendedHandshake } from '../../src/core/wire/extension.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { requirePeers, startLibtorrent } from '../helpers/peers.ts';
import { FakePeer } from './fake-peer.ts';

trackProcesses();
requirePeers('libtorrent');

let root: string;
let torrentPath: string;
let infoHash: Uint8Array;
let infoBytesLength = 0;
const fakes: FakePeer[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'shoal-hostile-metadata-'));
  // Enough pieces that the info dictionary spans several 16 KiB metadata pieces.
  writeFileSync(join(root, 'payload.bin'), randomBytes(2000 * 16 * 1024));
  const pool = new HashPool({ threads: 1 });
  try {
    const created = await createTorrent({
      path: join(root, 'payload.bin'),
      version: 'v1',
      pieceLength: 16 * 1024,
      pool,
      creationDate: null,
    });
    infoHash = created.infoHash!;
    torrentPath = join(root, 'payload.torrent');
    writeFileSync(torrentPath, created.torrentBytes);
    infoBytesLength = parseTorrent(created.torrentBytes).infoBytes.length;
  } finally {
    await pool.destroy();
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((fake) => fake.stop()));
});

/** A discovery the test feeds by hand, to control who is known when; `first` at start. */
function manualDiscovery(first: number): PeerDiscovery & { add(port: number): void } {
  let context: DiscoveryContext | null = null;
  return {
    name: 'test',
    start(c) {
      context = c;
      c.addPeers([{ host: '127.0.0.1', port: first }], 'test');
    },
    add(port) {
      context!.addPeers([{ host: '127.0.0.1', port }], 'test');
    },
    async stop() {},
  };
}

describe('metadata from a hostile swarm', () => {
  it('a peer announcing a wrong metadata size and hanging up cannot lock out an honest seeder', async () => {
    // The liar announces a size of its own; on our first request it hangs up. Every
    // time it is dialled again it does the same.
    const liar = await FakePeer.start(infoHash, {
      extensionProtocol: true,
      onConnect(peer) {
        peer.send({
          type: 'extended',
          id: 0,
          payload: encodeExtendedHandshake({
            m: { [UT_METADATA]: 3 },
            metadataSize: infoBytesLength + 12_345,
          }),
        });
      },
      onMessage(peer, message) {
        if (message.type === 'extended' && message.id === 3) peer.socket.destroy();
      },
    });
    fakes.push(liar);
    const seed = await startLibtorrent({
      mode: 'seed',
      torrent: torrentPath,
      save: root,
      timeoutS: 120,
    });
    const discovery = manualDiscovery(liar.port);
    const events: MetadataEvent[] = [];
    const liarKey = `127.0.0.1:${liar.port}`;
    const result = await fetchMetadata({
      infoHash,
      peerId: randomBytes(20),
      discoveries: [discovery],
      timeoutMs: 30_000,
      onEvent(event) {
        events.push(event);
        // The honest seeder becomes known only once the liar's size has been taken up
        // (our request to the liar is out), so the liar always goes first.
        if (event.type === 'peer-has-metadata' && event.peer === liarKey) discovery.add(seed.port);
      },
    });
    expect(createHash('sha1').update(result.infoBytes).digest().equals(Buffer.from(infoHash))).toBe(
      true,
    );
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'peer-has-metadata', peer: liarKey }),
    );
    expect(liar.requestsSeen + liar.connections).toBeGreaterThan(0);
  }, 60_000);
});
