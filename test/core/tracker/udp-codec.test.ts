import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TrackerError } from '../../../src/core/tracker/errors.ts';
import {
  UDP_PROTOCOL_ID,
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  parseAnnounceResponse,
  parseConnectResponse,
  parseScrapeResponse,
  peekTransactionId,
} from '../../../src/core/tracker/udp-codec.ts';
import { numRuns as runs } from '../../helpers/fuzz.ts';

const infoHash = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const peerId = Uint8Array.from({ length: 20 }, (_, i) => 100 + i);

function header(action: number, txid: number, extra = 0): Buffer {
  const b = Buffer.alloc(8 + extra);
  b.writeUInt32BE(action, 0);
  b.writeUInt32BE(txid, 4);
  return b;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TrackerError);
    return (error as TrackerError).code;
  }
  return 'no error';
}

describe('UDP requests', () => {
  it('encodes connect', () => {
    const b = Buffer.from(encodeConnectRequest(0xfedcba98));
    expect(b.length).toBe(16);
    expect(b.readBigUInt64BE(0)).toBe(UDP_PROTOCOL_ID);
    expect(b.readUInt32BE(8)).toBe(0);
    expect(b.readUInt32BE(12)).toBe(0xfedcba98);
  });

  it('encodes announce field by field', () => {
    const b = Buffer.from(
      encodeAnnounceRequest(0x0102030405060708n, 7, {
        infoHash,
        peerId,
        port: 51413,
        uploaded: 3,
        downloaded: 2,
        left: 2 ** 40,
        event: 'stopped',
        key: 0xffffffff,
      }),
    );
    expect(b.length).toBe(98);
    expect(b.readBigUInt64BE(0)).toBe(0x0102030405060708n);
    expect(b.readUInt32BE(8)).toBe(1);
    expect(b.readUInt32BE(12)).toBe(7);
    expect(b.subarray(16, 36)).toEqual(Buffer.from(infoHash));
    expect(b.subarray(36, 56)).toEqual(Buffer.from(peerId));
    expect(b.readBigUInt64BE(56)).toBe(2n);
    expect(b.readBigUInt64BE(64)).toBe(2n ** 40n);
    expect(b.readBigUInt64BE(72)).toBe(3n);
    expect(b.readUInt32BE(80)).toBe(3);
    expect(b.readUInt32BE(84)).toBe(0);
    expect(b.readUInt32BE(88)).toBe(0xffffffff);
    expect(b.readInt32BE(92)).toBe(-1);
    expect(b.readUInt16BE(96)).toBe(51413);
  });

  it('encodes scrape and bounds its size', () => {
    const b = Buffer.from(encodeScrapeRequest(1n, 9, [infoHash, infoHash]));
    expect(b.length).toBe(56);
    expect(b.readUInt32BE(8)).toBe(2);
    expect(() => encodeScrapeRequest(1n, 9, [])).toThrow(RangeError);
  });
});

describe('UDP responses', () => {
  it('parses connect and checks action and transaction id', () => {
    const b = header(0, 42, 8);
    b.writeBigUInt64BE(0xabcdefn, 8);
    expect(peekTransactionId(b)).toBe(42);
    expect(parseConnectResponse(b, 42)).toBe(0xabcdefn);
    expect(codeOf(() => parseConnectResponse(b, 43))).toBe('bad-response');
    expect(codeOf(() => parseConnectResponse(b.subarray(0, 12), 42))).toBe('bad-response');
    expect(codeOf(() => parseAnnounceResponse(b, 42, false))).toBe('bad-response');
    expect(peekTransactionId(b.subarray(0, 7))).toBeUndefined();
  });

  it('parses announce with IPv4 peers', () => {
    const b = header(1, 5, 12 + 6 * 3 + 2);
    b.writeUInt32BE(900, 8);
    b.writeUInt32BE(4, 12);
    b.writeUInt32BE(6, 16);
    Buffer.from([127, 0, 0, 1, 0x1a, 0xe1, 0, 0, 0, 0, 0, 1, 10, 1, 2, 3, 0, 0]).copy(b, 20);
    expect(parseAnnounceResponse(b, 5, false)).toMatchObject({
      interval: 900,
      leechers: 4,
      seeders: 6,
      peers: [{ host: '127.0.0.1', port: 6881 }],
    });
  });

  it('parses announce with IPv6 peers when reached over IPv6', () => {
    const b = header(1, 5, 12 + 18);
    b[20 + 15] = 1;
    b.writeUInt16BE(6881, 36);
    expect(parseAnnounceResponse(b, 5, true).peers).toEqual([{ host: '::1', port: 6881 }]);
  });

  it('turns the error action into a failure', () => {
    const b = Buffer.concat([header(3, 5), Buffer.from('Connection ID missmatch.\0')]);
    expect(codeOf(() => parseAnnounceResponse(b, 5, false))).toBe('failure');
    expect(codeOf(() => parseConnectResponse(b, 5))).toBe('failure');
  });

  it('parses scrape', () => {
    const b = header(2, 1, 12);
    b.writeUInt32BE(1, 8);
    b.writeUInt32BE(2, 12);
    b.writeUInt32BE(3, 16);
    const res = parseScrapeResponse(b, 1, [infoHash]);
    expect(res.get(Buffer.from(infoHash).toString('hex'))).toEqual({
      seeders: 1,
      completed: 2,
      leechers: 3,
    });
  });

  it('fuzz: any datagram gives a result or a TrackerError', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 120 }),
        fc.boolean(),
        fc.constantFrom(0, 1, 2, 3),
        (datagram, ipv6, action) => {
          // Half the time make the header plausible so the body parsers run.
          if (datagram.length >= 8 && ipv6) {
            Buffer.from(datagram.buffer, datagram.byteOffset).writeUInt32BE(action, 0);
          }
          const txid = peekTransactionId(datagram) ?? 0;
          for (const parse of [
            () => parseConnectResponse(datagram, txid),
            () => parseAnnounceResponse(datagram, txid, ipv6),
            () => parseScrapeResponse(datagram, txid, [infoHash]),
          ]) {
            try {
              const out = parse();
              if (typeof out === 'object' && 'peers' in out) {
                for (const p of out.peers) expect(p.port).toBeGreaterThan(0);
              }
            } catch (error) {
              if (!(error instanceof TrackerError)) throw error;
            }
          }
        },
      ),
      { numRuns: runs },
    );
  });
});
