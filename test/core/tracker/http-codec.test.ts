import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeBencode } from '../../../src/core/bencode/index.ts';
import { TrackerError } from '../../../src/core/tracker/errors.ts';
import {
  buildAnnounceUrl,
  buildScrapeUrl,
  parseAnnounceResponse,
  parseScrapeResponse,
  percentEncodeBytes,
  scrapeUrlFor,
} from '../../../src/core/tracker/http-codec.ts';
import type { AnnounceParams } from '../../../src/core/tracker/types.ts';
import { numRuns as runs } from '../../helpers/fuzz.ts';

const text = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => Uint8Array.from(b);

const infoHash = Uint8Array.from({ length: 20 }, (_, i) => i * 13);
const peerId = text('-SH0001-abcdefghijkl');
const params: AnnounceParams = {
  infoHash,
  peerId,
  port: 6881,
  uploaded: 10,
  downloaded: 20,
  left: 3_000_000_000_000,
  event: 'started',
  numWant: 50,
  key: 0xdeadbeef,
};

function expectTrackerError(fn: () => unknown, code: string): TrackerError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TrackerError);
    expect((error as TrackerError).code).toBe(code);
    return error as TrackerError;
  }
  throw new Error('expected a TrackerError');
}

describe('buildAnnounceUrl', () => {
  it('percent-encodes the info-hash and peer id as raw bytes', () => {
    expect(percentEncodeBytes(bytes(0x00, 0x41, 0x7e, 0x20, 0xff, 0x2e, 0x2f))).toBe(
      '%00A~%20%FF.%2F',
    );
    const url = buildAnnounceUrl('http://t.example/announce', params);
    const query = url.slice(url.indexOf('?') + 1).split('&');
    expect(query).toContain(`info_hash=${percentEncodeBytes(infoHash)}`);
    expect(query).toContain('peer_id=-SH0001-abcdefghijkl');
    expect(query).toEqual(
      expect.arrayContaining([
        'port=6881',
        'uploaded=10',
        'downloaded=20',
        'left=3000000000000',
        'compact=1',
        'event=started',
        'numwant=50',
        'key=DEADBEEF',
      ]),
    );
    // Decoding the query gives back exactly the raw bytes.
    const raw = query.find((p) => p.startsWith('info_hash='))!.slice('info_hash='.length);
    expect(
      Buffer.from(
        raw.replace(/%([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      ),
    ).toEqual(Buffer.from(infoHash));
  });

  it('keeps an existing query string and drops the fragment', () => {
    expect(buildAnnounceUrl('https://t.example/a?passkey=x%2Fy#frag', params)).toMatch(
      /^https:\/\/t\.example\/a\?passkey=x%2Fy&info_hash=/,
    );
    expect(buildAnnounceUrl('http://t.example/a?', params)).toMatch(/\/a\?info_hash=/);
  });

  it('sends tracker id back and omits event for a regular announce', () => {
    const url = buildAnnounceUrl('http://t/a', {
      ...params,
      event: undefined,
      trackerId: text('id 1'),
    });
    expect(url).toContain('trackerid=id%201');
    expect(url).not.toContain('event=');
  });

  it('refuses non-http URLs and wrong-sized hashes', () => {
    expectTrackerError(() => buildAnnounceUrl('udp://t:1/a', params), 'bad-url');
    expectTrackerError(() => buildAnnounceUrl('not a url', params), 'bad-url');
    expect(() => buildAnnounceUrl('http://t/a', { ...params, infoHash: bytes(1) })).toThrow(
      RangeError,
    );
  });
});

describe('scrape URLs', () => {
  it('follows the BEP 48 announce -> scrape convention', () => {
    expect(scrapeUrlFor('http://t/announce')).toBe('http://t/scrape');
    expect(scrapeUrlFor('http://t/x/announce.php?k=1')).toBe('http://t/x/scrape.php?k=1');
    expect(scrapeUrlFor('http://t/a')).toBeNull();
    expect(scrapeUrlFor('http://t/announce/x')).toBeNull();
    expect(buildScrapeUrl('http://t/scrape', [infoHash])).toBe(
      `http://t/scrape?info_hash=${percentEncodeBytes(infoHash)}`,
    );
  });

  it('parses a scrape response for the asked info-hashes', () => {
    const utf8Hash = text('abcdefghijklmnopqrst');
    // Built by hand: the info-hash key must be raw (non-UTF-8) bytes, which the bencode
    // package then keys by hex; the parser has to match that.
    const raw = Buffer.concat([
      Buffer.from('d5:filesd20:'),
      Buffer.from(infoHash),
      Buffer.from(
        'd8:completei1e10:downloadedi2e10:incompletei3ee20:abcdefghijklmnopqrstd8:completei4e10:downloadedi5e10:incompletei6eeee',
      ),
    ]);
    const result = parseScrapeResponse(raw, [infoHash, utf8Hash]);
    expect(result.get(Buffer.from(infoHash).toString('hex'))).toEqual({
      seeders: 1,
      completed: 2,
      leechers: 3,
    });
    expect(result.get(Buffer.from(utf8Hash).toString('hex'))).toEqual({
      seeders: 4,
      completed: 5,
      leechers: 6,
    });
  });
});

describe('parseAnnounceResponse', () => {
  it('parses compact IPv4 and IPv6 peers and the counters', () => {
    const body = encodeBencode({
      interval: 1800,
      'min interval': 60,
      complete: 5,
      incomplete: 7,
      'tracker id': text('tid'),
      'warning message': text('be nice\x1b[31m'),
      peers: bytes(10, 0, 0, 1, 0x1a, 0xe1, 127, 0, 0, 1, 0, 80, 1, 2, 3, 4, 0, 0),
      peers6: bytes(
        ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        0x1a,
        0xe1,
        ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 9],
        0,
        1,
      ),
    });
    const res = parseAnnounceResponse(body);
    expect(res).toMatchObject({
      interval: 1800,
      minInterval: 60,
      seeders: 5,
      leechers: 7,
      trackerId: text('tid'),
      warning: 'be nice [31m',
    });
    expect(res.peers).toEqual([
      { host: '10.0.0.1', port: 6881 },
      { host: '127.0.0.1', port: 80 },
      { host: '2001:db8::1', port: 6881 },
      { host: '192.168.1.9', port: 1 },
    ]);
  });

  it('parses dictionary-model peers and drops invalid ones', () => {
    const peers = [
      { ip: text('192.0.2.1'), port: 1, 'peer id': text('x'.repeat(20)) },
      { ip: text('::1'), port: 2 },
      { ip: text('FD00:0:0:0:0:0:0:1'), port: 3 },
      { ip: text('192.0.2.1'), port: 1 }, // duplicate
      { ip: text('fe80::1'), port: 12 }, // link-local: undialable without its zone
      { ip: text('0.0.0.0'), port: 4 },
      { ip: text('224.0.0.1'), port: 5 },
      { ip: text('255.255.255.255'), port: 6 },
      { ip: text('::'), port: 7 },
      { ip: text('ff02::1'), port: 8 },
      { ip: text('010.0.0.1'), port: 9 },
      { ip: text('tracker.example'), port: 10 },
      { ip: text('192.0.2.2'), port: 0 },
      { ip: text('192.0.2.3'), port: 65536 },
      { ip: text('192.0.2.4'), port: -1 },
      { ip: 5, port: 11 },
      'junk',
    ];
    expect(parseAnnounceResponse(encodeBencode({ interval: 10, peers })).peers).toEqual([
      { host: '192.0.2.1', port: 1 },
      { host: '::1', port: 2 },
      { host: 'fd00::1', port: 3 },
    ]);
  });

  it('ignores a trailing partial compact entry', () => {
    const res = parseAnnounceResponse(encodeBencode({ peers: bytes(10, 0, 0, 1, 0, 1, 9, 9) }));
    expect(res.peers).toEqual([{ host: '10.0.0.1', port: 1 }]);
    expect(res.interval).toBeUndefined();
  });

  it('turns failure reason into a TrackerError with retry in', () => {
    const error = expectTrackerError(
      () =>
        parseAnnounceResponse(
          encodeBencode({ 'failure reason': text('unregistered torrent'), 'retry in': 60 }),
        ),
      'failure',
    );
    expect(error.message).toContain('unregistered torrent');
    expect(error.retryInSec).toBe(60);
  });

  it.each([
    ['empty body', ''],
    ['not bencode', '<html>oops</html>'],
    ['a list', 'li1ee'],
    ['no peers and no interval', 'd3:fooi1ee'],
    ['peers of the wrong type', 'd5:peersi3ee'],
    ['trailing garbage', 'd8:intervali1ee!'],
  ])('rejects %s as bad-response', (_name, body) => {
    expectTrackerError(() => parseAnnounceResponse(text(body)), 'bad-response');
  });

  it('fuzz: random bytes only ever give a TrackerError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (body) => {
        try {
          parseAnnounceResponse(body);
        } catch (error) {
          if (!(error instanceof TrackerError)) throw error;
        }
      }),
      { numRuns: runs },
    );
  });

  it('fuzz: mutated valid responses give peers that are all valid, or a TrackerError', () => {
    const valid = encodeBencode({
      interval: 1800,
      complete: 1,
      peers: [{ ip: text('10.0.0.2'), port: 6881 }],
      peers6: bytes(...new Array<number>(15).fill(0), 1, 0, 80),
    });
    const compact = encodeBencode({ interval: 5, peers: bytes(10, 0, 0, 1, 0x1a, 0xe1) });
    fc.assert(
      fc.property(
        fc.constantFrom(valid, compact),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat({ max: 20 }),
        (base, edits, cut) => {
          const body = Uint8Array.from(base);
          for (const [at, value] of edits) body[at % body.length] = value;
          const input = body.subarray(0, Math.max(0, body.length - cut));
          try {
            const res = parseAnnounceResponse(input);
            for (const peer of res.peers) {
              expect(peer.port).toBeGreaterThan(0);
              expect(peer.port).toBeLessThan(65536);
              expect(peer.host).toMatch(/^[0-9a-f.:]+$/);
            }
          } catch (error) {
            if (!(error instanceof TrackerError)) throw error;
          }
        },
      ),
      { numRuns: runs },
    );
  });

  it('fuzz: scrape parser never crashes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (body) => {
        try {
          parseScrapeResponse(body, [infoHash]);
        } catch (error) {
          if (!(error instanceof TrackerError)) throw error;
        }
      }),
      { numRuns: runs },
    );
  });
});
