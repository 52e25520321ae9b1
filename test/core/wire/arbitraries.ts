// fast-check generators for wire messages, shared by the wire tests.
import fc from 'fast-check';
import type { WireMessage } from '../../../src/core/wire/messages.ts';

export { numRuns as FUZZ_RUNS } from '../../helpers/fuzz.ts';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (maxLength: number) => fc.uint8Array({ maxLength });

export const arbMessage: fc.Arbitrary<WireMessage> = fc.oneof(
  fc.constantFrom<WireMessage>(
    { type: 'keep-alive' },
    { type: 'choke' },
    { type: 'unchoke' },
    { type: 'interested' },
    { type: 'not-interested' },
    { type: 'have-all' },
    { type: 'have-none' },
  ),
  u32.map((index): WireMessage => ({ type: 'have', index })),
  u32.map((index): WireMessage => ({ type: 'suggest', index })),
  u32.map((index): WireMessage => ({ type: 'allowed-fast', index })),
  bytes(300).map((b): WireMessage => ({ type: 'bitfield', bytes: b })),
  fc
    .record({ index: u32, begin: u32, length: fc.integer({ min: 1, max: 128 * 1024 }) })
    .map((r): WireMessage => ({ type: 'request', ...r })),
  fc
    .record({ index: u32, begin: u32, length: u32 })
    .map((r): WireMessage => ({ type: 'cancel', ...r })),
  fc
    .record({ index: u32, begin: u32, length: u32 })
    .map((r): WireMessage => ({ type: 'reject', ...r })),
  fc
    .record({ index: u32, begin: u32, block: bytes(16 * 1024) })
    .map((r): WireMessage => ({ type: 'piece', ...r })),
  fc.integer({ min: 0, max: 0xffff }).map((port): WireMessage => ({ type: 'port', port })),
  fc
    .record({ id: fc.integer({ min: 0, max: 255 }), payload: bytes(500) })
    .map((r): WireMessage => ({ type: 'extended', ...r })),
);

/** Splits bytes into chunks at the given (sorted, deduplicated) cut points. */
export function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(data.subarray(prev, p));
    prev = p;
  }
  chunks.push(data.subarray(prev));
  return chunks;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
