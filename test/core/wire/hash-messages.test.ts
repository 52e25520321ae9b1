/**
 * The BEP 52 hash message codec (hash request 21, hashes 22, hash reject 23):
 * byte layout, the uncle-count rule libtorrent uses, and every limit on
 * hostile input. Also that the stream decoder routes the three ids here.
 */
import { describe, expect, it } from 'vitest';
import { WireDecoder } from '../../../src/core/wire/decoder.ts';
import { WireProtocolError } from '../../../src/core/wire/errors.ts';
import {
  decodeHashMessage,
  encodeHashMessage,
  HASH_HEADER_LENGTH,
  MAX_HASH_COUNT,
  uncleCount,
  type HashRange,
} from '../../../src/core/wire/hash-messages.ts';
import { encodeMessage } from '../../../src/core/wire/messages.ts';

const root = Uint8Array.from({ length: 32 }, (_, i) => i + 1);

function range(overrides: Partial<HashRange> = {}): HashRange {
  return { piecesRoot: root, baseLayer: 2, index: 512, length: 512, proofLayers: 10, ...overrides };
}

function payloadOf(frame: Uint8Array): Uint8Array {
  return frame.subarray(5);
}

function errorOf(fn: () => unknown): WireProtocolError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WireProtocolError);
    return error as WireProtocolError;
  }
  throw new Error('expected a WireProtocolError');
}

describe('hash messages', () => {
  it('lays a hash request out as BEP 52 says: root, base, index, length, proof layers', () => {
    const frame = encodeHashMessage({ type: 'hash-request', ...range() });
    expect(frame.length).toBe(4 + 1 + HASH_HEADER_LENGTH);
    const view = new DataView(frame.buffer);
    expect(view.getUint32(0)).toBe(49);
    expect(frame[4]).toBe(21);
    expect([...frame.subarray(5, 37)]).toEqual([...root]);
    expect([37, 41, 45, 49].map((at) => view.getUint32(at))).toEqual([2, 512, 512, 10]);
    expect(decodeHashMessage(21, payloadOf(frame))).toEqual({ type: 'hash-request', ...range() });
  });

  it('counts uncles as libtorrent does: proof layers above the subtree the hashes span', () => {
    // 512 hashes span 9 layers; proof layers 10 reaches 2 layers higher: 2 uncles.
    expect(uncleCount({ length: 512, proofLayers: 10 })).toBe(2);
    // The whole layer with proof layers = its height - 1 (libtorrent's own request): none.
    expect(uncleCount({ length: 8, proofLayers: 2 })).toBe(0);
    // A length that is not a power of two counts as the next power of two.
    expect(uncleCount({ length: 5, proofLayers: 4 })).toBe(2);
  });

  it('round-trips hashes with their uncles, and a reject', () => {
    const hashes = Uint8Array.from({ length: 4 * 32 }, (_, i) => i & 0xff);
    const uncles = Uint8Array.from({ length: 2 * 32 }, (_, i) => 255 - (i & 0xff));
    const message = {
      type: 'hashes' as const,
      ...range({ length: 4, index: 8, proofLayers: 3 }),
      hashes,
      uncles,
    };
    const frame = encodeHashMessage(message);
    expect(frame.length).toBe(5 + HASH_HEADER_LENGTH + 6 * 32);
    expect(decodeHashMessage(22, payloadOf(frame))).toEqual(message);
    const reject = encodeMessage({ type: 'hash-reject', ...range() });
    expect(reject[4]).toBe(23);
    expect(decodeHashMessage(23, payloadOf(reject))).toEqual({ type: 'hash-reject', ...range() });
  });

  it('refuses a hashes message with more or fewer hashes than its header implies', () => {
    const good = encodeHashMessage({
      type: 'hashes',
      ...range({ length: 2, proofLayers: 0 }),
      hashes: new Uint8Array(64),
      uncles: new Uint8Array(0),
    });
    const extra = new Uint8Array(good.length - 5 + 32);
    extra.set(payloadOf(good));
    expect(errorOf(() => decodeHashMessage(22, extra)).code).toBe('bad-length');
    expect(errorOf(() => decodeHashMessage(22, payloadOf(good).subarray(0, 48 + 32))).code).toBe(
      'bad-length',
    );
  });

  it('refuses zero or too many hashes, absurd layers, a range past 2^32 and short headers', () => {
    const request = (fields: Partial<HashRange>) =>
      payloadOf(encodeHashMessage({ type: 'hash-request', ...range(fields) }));
    for (const fields of [
      { length: 0 },
      { length: MAX_HASH_COUNT + 1 },
      { baseLayer: 64 },
      { proofLayers: 64 },
      { index: 0xffffffff, length: 2 },
    ]) {
      expect(errorOf(() => decodeHashMessage(21, request(fields))).code).toBe('bad-value');
    }
    expect(errorOf(() => decodeHashMessage(21, request({}).subarray(0, 47))).code).toBe(
      'bad-length',
    );
    expect(errorOf(() => decodeHashMessage(23, new Uint8Array(49))).code).toBe('bad-length');
  });

  it('never encodes a hashes message whose hash count disagrees with its header (our bug)', () => {
    expect(() =>
      encodeHashMessage({
        type: 'hashes',
        ...range({ length: 4, proofLayers: 0 }),
        hashes: new Uint8Array(3 * 32),
        uncles: new Uint8Array(0),
      }),
    ).toThrow(RangeError);
  });

  it('the stream decoder hands out the three messages and refuses an oversized one early', () => {
    const decoder = new WireDecoder();
    const frames = [
      encodeMessage({ type: 'hash-request', ...range() }),
      encodeMessage({
        type: 'hashes',
        ...range({ length: 2, proofLayers: 0 }),
        hashes: new Uint8Array(64).fill(7),
        uncles: new Uint8Array(0),
      }),
      encodeMessage({ type: 'hash-reject', ...range() }),
    ];
    const wire = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of frames) {
      wire.set(f, at);
      at += f.length;
    }
    decoder.push(wire);
    expect([...decoder].map((m) => m.type)).toEqual(['hash-request', 'hashes', 'hash-reject']);

    // A 'hashes' frame claiming 16 MiB is refused from its 5-byte head, before any buffering.
    const huge = new Uint8Array(5);
    new DataView(huge.buffer).setUint32(0, 16 * 1024 * 1024);
    huge[4] = 22;
    const refusing = new WireDecoder();
    refusing.push(huge);
    expect(errorOf(() => refusing.next()).code).toBe('message-too-long');
    expect(refusing.bufferedBytes).toBe(0);
  });
});
