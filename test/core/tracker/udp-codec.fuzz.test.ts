/**
 * Property tests of the BEP 15 UDP tracker response parsers. See
 * test/helpers/fuzz.ts for FUZZ_RUNS / FUZZ_SEED.
 *
 * shoal only sends requests, so the responses are written here by a test
 * encoder that follows BEP 15 (`encodeAnnounce`, `encodeScrape` below).
 * Canonical form of an accepted datagram:
 * - connect: its first 16 bytes (later bytes are ignored);
 * - announce: the 20-byte header when interval, leechers and seeders are at
 *   most 2^31 - 1 (larger ones read as absent), then the compact peers as
 *   peers.fuzz.test.ts describes, duplicates removed; parsing the
 *   re-encoded response gives the same response (fixpoint);
 * - scrape: the header and one 12-byte entry per info-hash asked about, as
 *   far as the datagram has them; bytes after those are ignored.
 * Every rejection is a TrackerError: 'failure' for an error action (or a
 * bare announce header), else 'bad-response'.
 */
import type { PeerAddress } from '../../../src/core/net/peer-address.ts';
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import { compactPeer } from '../../../src/core/pex/ut-pex-codec.ts';
import { TrackerError } from '../../../src/core/tracker/errors.ts';
import type { AnnounceResponse } from '../../../src/core/tracker/types.ts';
import {
  parseAnnounceResponse,
  parseConnectResponse,
  parseScrapeResponse,
} from '../../../src/core/tracker/udp-codec.ts';
import { fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const small = fc.integer({ min: 0, max: 0x7fffffff });
const hash = fc.uint8Array({ minLength: 20, maxLength: 20 });

function header(action: number, transactionId: number, bodyLength: number): Buffer {
  const out = Buffer.alloc(8 + bodyLength);
  out.writeUInt32BE(action, 0);
  out.writeUInt32BE(transactionId, 4);
  return out;
}

function encodeConnect(transactionId: number, connectionId: bigint): Buffer {
  const out = header(0, transactionId, 8);
  out.writeBigUInt64BE(connectionId, 8);
  return out;
}

function encodeAnnounce(transactionId: number, r: AnnounceResponse): Buffer {
  const out = header(1, transactionId, 12);
  out.writeUInt32BE(r.interval ?? 0xffffffff, 8);
  out.writeUInt32BE(r.leechers ?? 0xffffffff, 12);
  out.writeUInt32BE(r.seeders ?? 0xffffffff, 16);
  return Buffer.concat([out, ...r.peers.map(compactPeer)]);
}

function encodeScrape(
  transactionId: number,
  entries: { seeders: number; completed: number; leechers: number }[],
): Buffer {
  const out = header(2, transactionId, 12 * entries.length);
  entries.forEach((e, i) => {
    out.writeUInt32BE(e.seeders, 8 + 12 * i);
    out.writeUInt32BE(e.completed, 12 + 12 * i);
    out.writeUInt32BE(e.leechers, 16 + 12 * i);
  });
  return out;
}

/** Usable, distinct peers of one family, as the parser spells them. */
const arbPeers = (ipv6: boolean): fc.Arbitrary<PeerAddress[]> =>
  fc.uniqueArray(
    fc.record({
      host: ipv6
        ? fc
            .tuple(
              fc.integer({ min: 0x20, max: 0xfe }),
              fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 7, maxLength: 7 }),
            )
            .map(([a, rest]) =>
              new URL(
                `http://[${[a << 8, ...rest].map((g) => g.toString(16)).join(':')}]/`,
              ).hostname.slice(1, -1),
            )
        : fc
            .tuple(
              fc.integer({ min: 1, max: 223 }),
              fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 3, maxLength: 3 }),
            )
            .map((octets) => octets.flat().join('.')),
      port: fc.integer({ min: 1, max: 0xffff }),
    }),
    { maxLength: 6, selector: (p) => `${p.host}|${p.port}` },
  );

const arbAnnounce = (ipv6: boolean): fc.Arbitrary<AnnounceResponse> =>
  fc.record({
    interval: fc.option(small, { nil: undefined }),
    minInterval: fc.constant(undefined),
    leechers: fc.option(small, { nil: undefined }),
    seeders: fc.option(small, { nil: undefined }),
    warning: fc.constant(undefined),
    trackerId: fc.constant(undefined),
    peers: arbPeers(ipv6),
  });

function expectTrackerError(error: unknown): void {
  expect(error).toBeInstanceOf(TrackerError);
  expect(['bad-response', 'failure']).toContain((error as TrackerError).code);
}

describe('UDP tracker codec properties', () => {
  fuzzIt(
    'connect: round-trips, and anything accepted re-encodes to its first 16 bytes',
    fc.property(
      u32,
      mutatedFrom(
        fc
          .tuple(u32, fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }))
          .map(([t, c]) => encodeConnect(t, c)),
        40,
      ),
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      (tid, datagram, connectionId) => {
        expect(parseConnectResponse(encodeConnect(tid, connectionId), tid)).toBe(connectionId);
        const transactionId = datagram.length >= 8 ? Buffer.from(datagram).readUInt32BE(4) : tid;
        try {
          const id = parseConnectResponse(datagram, transactionId);
          expect(hex(encodeConnect(transactionId, id))).toBe(hex(datagram.subarray(0, 16)));
        } catch (error) {
          expectTrackerError(error);
        }
      },
    ),
  );

  for (const ipv6 of [false, true]) {
    fuzzIt(
      `announce (${ipv6 ? 'IPv6' : 'IPv4'}): round-trips, and anything accepted re-encodes to a fixpoint`,
      fc.property(
        u32,
        arbAnnounce(ipv6),
        mutatedFrom(
          fc.tuple(u32, arbAnnounce(ipv6)).map(([t, r]) => encodeAnnounce(t, r)),
          80,
        ),
        (tid, response, datagram) => {
          expect(parseAnnounceResponse(encodeAnnounce(tid, response), tid, ipv6)).toEqual(response);
          const transactionId = datagram.length >= 8 ? Buffer.from(datagram).readUInt32BE(4) : tid;
          let parsed: AnnounceResponse;
          try {
            parsed = parseAnnounceResponse(datagram, transactionId, ipv6);
          } catch (error) {
            expectTrackerError(error);
            return;
          }
          const again = encodeAnnounce(transactionId, parsed);
          expect(parseAnnounceResponse(again, transactionId, ipv6)).toEqual(parsed);
          const fields = Buffer.from(datagram.subarray(8, 20));
          if ([0, 4, 8].every((at) => fields.readUInt32BE(at) <= 0x7fffffff)) {
            expect(hex(again.subarray(0, 20))).toBe(hex(datagram.subarray(0, 20)));
          }
        },
      ),
    );
  }

  fuzzIt(
    'scrape: round-trips, and anything accepted re-encodes to the entries asked about',
    fc.property(
      u32,
      fc.array(hash, { minLength: 1, maxLength: 5 }),
      mutatedFrom(
        fc
          .tuple(
            u32,
            fc.array(fc.record({ seeders: u32, completed: u32, leechers: u32 }), { maxLength: 5 }),
          )
          .map(([t, entries]) => encodeScrape(t, entries)),
        80,
      ),
      (tid, hashes, datagram) => {
        const entries = hashes.map((_, i) => ({
          seeders: i,
          completed: 2 * i,
          leechers: 0xffffffff - i,
        }));
        const result = parseScrapeResponse(encodeScrape(tid, entries), tid, hashes);
        // Repeated hashes share one key; the last entry for a hash wins.
        const expected = new Map(
          hashes.map((h, i) => [Buffer.from(h).toString('hex'), entries[i]!]),
        );
        expect(result).toEqual(expected);

        const transactionId = datagram.length >= 8 ? Buffer.from(datagram).readUInt32BE(4) : tid;
        const distinct = Array.from({ length: 5 }, (_, i) =>
          Uint8Array.of(i, ...new Uint8Array(19)),
        );
        try {
          const parsed = parseScrapeResponse(datagram, transactionId, distinct);
          const got = [...parsed.values()];
          expect(got.length).toBe(Math.min(5, Math.floor((datagram.length - 8) / 12)));
          const again = encodeScrape(transactionId, got);
          expect(hex(again)).toBe(hex(datagram.subarray(0, again.length)));
        } catch (error) {
          expectTrackerError(error);
        }
      },
    ),
  );
});
