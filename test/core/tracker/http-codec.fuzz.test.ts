/**
 * Property tests of the HTTP tracker codec: announce and scrape response
 * parsing, and the announce URL. See test/helpers/fuzz.ts for FUZZ_RUNS /
 * FUZZ_SEED.
 *
 * shoal only reads responses, so they are written here by a test encoder
 * (bencode of the BEP 3 / 23 / 7 keys). Parsing is lossy on purpose (other
 * keys, negative or non-integer counts, unusable or repeated peers are
 * dropped; text is cleaned for the terminal; dictionary-model peer lists
 * become compact ones), so the canonical form is the parser's image: for an
 * accepted body x, parse(encode(parse(x))) is parse(x). Every rejection is
 * a TrackerError, 'failure' for a `failure reason`, else 'bad-response'.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeBencode } from '../../../src/core/bencode/index.ts';
import { compactPeer } from '../../../src/core/pex/ut-pex-codec.ts';
import { TrackerError } from '../../../src/core/tracker/errors.ts';
import {
  buildAnnounceUrl,
  parseAnnounceResponse,
  parseScrapeResponse,
  trackerText,
} from '../../../src/core/tracker/http-codec.ts';
import { parseCompactPeers4, parseCompactPeers6 } from '../../../src/core/net/compact-peers.ts';
import type { AnnounceResponse, ScrapeEntry } from '../../../src/core/tracker/types.ts';
import { fuzzIt, mutatedFrom } from '../../helpers/fuzz.ts';

const count = fc.oneof(fc.nat(100_000), fc.maxSafeNat());
const entry4 = fc.uint8Array({ minLength: 6, maxLength: 6 });
const entry6 = fc.uint8Array({ minLength: 18, maxLength: 18 });

/** Test encoder: an announce response as a tracker would send it (compact peers). */
function encodeAnnounce(r: AnnounceResponse): Uint8Array {
  const dict: Record<string, unknown> = {};
  if (r.interval !== undefined) dict['interval'] = r.interval;
  if (r.minInterval !== undefined) dict['min interval'] = r.minInterval;
  if (r.seeders !== undefined) dict['complete'] = r.seeders;
  if (r.leechers !== undefined) dict['incomplete'] = r.leechers;
  if (r.warning !== undefined) dict['warning message'] = r.warning;
  if (r.trackerId !== undefined) dict['tracker id'] = r.trackerId;
  const v4 = r.peers.filter((p) => !p.host.includes(':'));
  const v6 = r.peers.filter((p) => p.host.includes(':'));
  dict['peers'] = Buffer.concat(v4.map(compactPeer));
  if (v6.length > 0) dict['peers6'] = Buffer.concat(v6.map(compactPeer));
  return encodeBencode(dict);
}

/** Responses the parser can return: peers come from real compact entries, so they are canonical. */
const arbResponse: fc.Arbitrary<AnnounceResponse> = fc
  .record({
    interval: fc.option(count, { nil: undefined }),
    minInterval: fc.option(count, { nil: undefined }),
    seeders: fc.option(count, { nil: undefined }),
    leechers: fc.option(count, { nil: undefined }),
    warning: fc.option(
      fc.string({ maxLength: 40, unit: 'grapheme' }).map((t) => trackerText(Buffer.from(t))),
      { nil: undefined },
    ),
    trackerId: fc.option(fc.uint8Array({ minLength: 1, maxLength: 20 }), { nil: undefined }),
    v4: fc.array(entry4, { maxLength: 5 }),
    v6: fc.array(entry6, { maxLength: 5 }),
  })
  .map(({ v4, v6, warning, ...rest }) => {
    const peers4 = parseCompactPeers4(Buffer.concat(v4));
    const peers6 = parseCompactPeers6(Buffer.concat(v6));
    // An IPv4-mapped IPv6 entry parses as IPv4; keep family order as the parser does.
    const all = [...peers4, ...peers6];
    const ordered = [
      ...all.filter((p) => !p.host.includes(':')),
      ...all.filter((p) => p.host.includes(':')),
    ];
    const seen = new Set<string>();
    const peers = ordered.filter(
      (p) => !seen.has(`${p.host}|${p.port}`) && !!seen.add(`${p.host}|${p.port}`),
    );
    return { ...rest, warning: warning || undefined, peers };
  });

/** Bodies with every key the parser reads, of every type, dictionary-model peers included. */
const arbOddBody = fc
  .dictionary(
    fc.constantFrom(
      'interval',
      'min interval',
      'complete',
      'incomplete',
      'warning message',
      'tracker id',
      'peers',
      'peers6',
      'failure reason',
      'retry in',
      'x',
    ),
    fc.oneof(
      fc.integer({ min: -5, max: 1000 }),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(
        fc.record({
          ip: fc
            .constantFrom(
              '1.2.3.4',
              '::1',
              '2001:db8::1',
              '0.0.0.0',
              '::ffff:1.2.3.4',
              'host',
              '01.2.3.4',
            )
            .map((t) => Buffer.from(t)),
          port: fc.integer({ min: -1, max: 70000 }),
        }),
        { maxLength: 3 },
      ),
    ),
    { maxKeys: 6 },
  )
  .map((dict) => encodeBencode(dict));

/** Warnings around the 512-character cap, in characters of one to four UTF-8 bytes. */
const arbLongWarning = fc
  .string({
    unit: fc.constantFrom('a', ' ', 'é', '€', '😀'),
    minLength: 500,
    maxLength: 700,
    size: 'max',
  })
  .map((warning) => encodeBencode({ interval: 1, 'warning message': warning }));

function byFamily(response: AnnounceResponse): AnnounceResponse {
  const v4 = response.peers.filter((p) => !p.host.includes(':'));
  return { ...response, peers: [...v4, ...response.peers.filter((p) => p.host.includes(':'))] };
}

function expectTrackerError(error: unknown): void {
  expect(error).toBeInstanceOf(TrackerError);
  expect(['bad-response', 'failure']).toContain((error as TrackerError).code);
}

describe('HTTP tracker codec properties', () => {
  it('regression: a long warning is cut between characters, never inside one', () => {
    // Found by the fixpoint property below: the 512-character cut counted UTF-16 units, so it
    // could split an emoji's surrogate pair and leave a lone surrogate, which re-encodes as
    // U+FFFD; and the 2048-byte read cap could drop the '…' of a cut text read again.
    const warning = trackerText(Buffer.from(`a${'😀'.repeat(600)}`));
    expect(warning.isWellFormed()).toBe(true);
    expect(warning).toBe(`a${'😀'.repeat(511)}…`);
    expect(trackerText(Buffer.from(warning))).toBe(warning);
  });

  fuzzIt(
    'announce: round-trips what the parser can return',
    fc.property(arbResponse, (response) => {
      expect(parseAnnounceResponse(encodeAnnounce(response))).toEqual(response);
    }),
  );

  fuzzIt(
    'announce: anything accepted re-encodes to a body that parses the same (fixpoint)',
    fc.property(
      mutatedFrom(fc.oneof(arbResponse.map(encodeAnnounce), arbOddBody, arbLongWarning), 80),
      (body) => {
        let parsed: AnnounceResponse;
        try {
          parsed = parseAnnounceResponse(body);
        } catch (error) {
          expectTrackerError(error);
          return;
        }
        // The test encoder writes compact lists, IPv4 first; the parser keeps the tracker's order
        // (a dictionary-model list may mix families, an IPv4-mapped `peers6` entry reads as IPv4),
        // so the order within each family is what must survive.
        expect(byFamily(parseAnnounceResponse(encodeAnnounce(parsed)))).toEqual(byFamily(parsed));
      },
    ),
  );

  fuzzIt(
    'scrape: round-trips, and anything accepted re-encodes to a fixpoint',
    fc.property(
      fc.uniqueArray(fc.uint8Array({ minLength: 20, maxLength: 20 }), {
        minLength: 1,
        maxLength: 4,
        selector: (h) => Buffer.from(h).toString('hex'),
      }),
      fc.array(fc.record({ seeders: count, completed: count, leechers: count }), {
        minLength: 4,
        maxLength: 4,
      }),
      fc.array(fc.tuple(fc.nat(3), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      (hashes, entries, edits) => {
        const encode = (result: Map<string, ScrapeEntry>) =>
          encodeBencode({
            files: new Map(
              [...result].map(([key, e]) => [
                Buffer.from(key, 'hex'),
                { complete: e.seeders, downloaded: e.completed, incomplete: e.leechers },
              ]),
            ),
          });
        const result = new Map(hashes.map((h, i) => [Buffer.from(h).toString('hex'), entries[i]!]));
        expect(parseScrapeResponse(encode(result), hashes)).toEqual(result);
        // Any edits, then: accepted results re-encode to a body that parses the same.
        const body = Buffer.from(encode(result));
        for (const [at, byte] of edits) body[Math.floor((at / 4) * body.length)] = byte;
        try {
          const parsed = parseScrapeResponse(body, hashes);
          expect(parseScrapeResponse(encode(parsed), hashes)).toEqual(parsed);
        } catch (error) {
          expectTrackerError(error);
        }
      },
    ),
  );

  fuzzIt(
    'the announce URL carries the info-hash, peer id and tracker id bytes exactly',
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.uint8Array({ minLength: 20, maxLength: 20 }),
      fc.uint8Array({ minLength: 1, maxLength: 40 }),
      fc.constantFrom(
        'http://t.example/announce',
        'https://t.example/a?passkey=x%2F1&',
        'http://127.0.0.1:6969/announce?#frag',
      ),
      (infoHash, peerId, trackerId, base) => {
        const url = buildAnnounceUrl(base, {
          infoHash,
          peerId,
          trackerId,
          port: 6881,
          uploaded: 0,
          downloaded: 0,
          left: 1,
        });
        const query = url.slice(url.indexOf('?') + 1).split('&');
        const bytesOf = (key: string) => {
          const pair = query.find((p) => p.startsWith(`${key}=`))!;
          // Percent-decoding as bytes (latin1), not as UTF-8 text.
          return Buffer.from(unescape(pair.slice(key.length + 1)), 'latin1');
        };
        expect(bytesOf('info_hash').equals(Buffer.from(infoHash))).toBe(true);
        expect(bytesOf('peer_id').equals(Buffer.from(peerId))).toBe(true);
        expect(bytesOf('trackerid').equals(Buffer.from(trackerId))).toBe(true);
        expect(url).not.toContain('#');
      },
    ),
  );
});
