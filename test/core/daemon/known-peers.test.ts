/**
 * The known peers a torrent's record keeps between runs: what a run stores
 * reads back the same, and whatever else torrents.json holds there (a
 * hand-edited or damaged file) is dropped, never dialled.
 */
import { describe, expect, it } from 'vitest';
import {
  keepKnownPeers,
  KNOWN_PEERS_KEPT,
  knownPeersOf,
} from '../../../src/core/daemon/known-peers.ts';
import { newRecord, type TorrentRecord } from '../../../src/core/daemon/torrent-record.ts';

function record(knownPeers?: unknown): TorrentRecord {
  const r = newRecord({
    id: 1,
    hash: '00'.repeat(20),
    magnet: null,
    name: 'x',
    downloadDir: '/tmp',
    paused: false,
  });
  return { ...r, knownPeers: knownPeers as TorrentRecord['knownPeers'] };
}

describe('known peers in the torrent record', () => {
  it('reads back what a run kept, through JSON, at most KNOWN_PEERS_KEPT (the newest)', () => {
    const r = record();
    const peers = Array.from({ length: KNOWN_PEERS_KEPT + 5 }, (_, i) => ({
      host: `10.0.${i >> 8}.${i & 255}`,
      port: 1000 + i,
    }));
    keepKnownPeers(r, [...peers, { host: '2001:db8::7', port: 6881 }]);
    const again = JSON.parse(JSON.stringify(r)) as TorrentRecord;
    const read = knownPeersOf(again);
    expect(read).toHaveLength(KNOWN_PEERS_KEPT);
    expect(read.at(-1)).toEqual({ host: '2001:db8::7', port: 6881 });
    expect(read[0]).toEqual(peers[6]);
  });

  it('drops anything that is not a usable IP and port', () => {
    const hostile: unknown[] = [
      null,
      7,
      'host:1',
      [],
      { host: 'example.org', port: 80 }, // a name: never resolved
      { host: '10.0.0.1', port: 0 },
      { host: '10.0.0.1', port: 70000 },
      { host: '10.0.0.1', port: '6881x' },
      { host: '0.0.0.0', port: 6881 },
      { host: '224.0.0.1', port: 6881 }, // multicast
      { port: 6881 },
      { host: '10.0.0.2', port: 6881 }, // the one good entry
    ];
    expect(knownPeersOf(record(hostile))).toEqual([{ host: '10.0.0.2', port: 6881 }]);
    expect(knownPeersOf(record({ host: '10.0.0.2', port: 6881 }))).toEqual([]);
    expect(knownPeersOf(record(undefined))).toEqual([]);
  });
});
