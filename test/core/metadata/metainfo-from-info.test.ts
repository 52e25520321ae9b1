import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  metainfoFromInfo,
  torrentFromInfo,
} from '../../../src/core/metadata/metainfo-from-info.ts';
import { parseTorrent } from '../../../src/core/metainfo/index.ts';
import { corpusPath } from '../../helpers/fixtures.ts';

describe('metainfo from fetched info bytes', () => {
  for (const name of [
    'ubuntu-20.04.3-desktop-amd64.iso.torrent',
    'bittorrent-v2-hybrid-test.torrent',
  ]) {
    it(`keeps the info-hash of ${name} and attaches the magnet's trackers`, () => {
      const original = parseTorrent(readFileSync(corpusPath(name)));
      const trackers = [
        ['udp://tracker.example:6969'],
        ['http://a.example/announce', 'http://b.example/announce'],
      ];
      const fromInfo = metainfoFromInfo(original.infoBytes, {
        trackers,
        webSeeds: ['http://ws.example/'],
      });
      expect(fromInfo.infoHash).toEqual(original.infoHash);
      expect(fromInfo.infoHashV2).toEqual(original.infoHashV2);
      expect(fromInfo.trackers).toEqual(trackers);
      expect(fromInfo.webSeeds).toEqual(['http://ws.example/']);
      expect(fromInfo.files.map((f) => f.path)).toEqual(original.files.map((f) => f.path));
      if (original.version === 'v1') {
        const saved = parseTorrent(torrentFromInfo(original.infoBytes, { trackers }));
        expect(saved.infoHash).toEqual(original.infoHash);
        expect(saved.trackers).toEqual(trackers);
      }
    });
  }

  it('a single tracker becomes announce only', () => {
    const original = parseTorrent(
      readFileSync(corpusPath('ubuntu-20.04.3-desktop-amd64.iso.torrent')),
    );
    const bytes = torrentFromInfo(original.infoBytes, { trackers: [['http://t.example/a']] });
    expect(Buffer.from(bytes.subarray(0, 38)).toString('latin1')).toBe(
      'd8:announce18:http://t.example/a4:info',
    );
    expect(parseTorrent(torrentFromInfo(original.infoBytes)).trackers).toEqual([]);
  });
});
