/**
 * Property tests of the resume state's two on-disk formats (resume-store.ts):
 * the snapshot (encodeSnapshot / decodeSnapshot) and the journal of one
 * record per verified piece (written by ResumeStore.record, read by
 * replayJournal). See test/helpers/fuzz.ts for FUZZ_RUNS / FUZZ_SEED.
 *
 * Both are sealed with an HMAC under this machine's resume key, so random
 * edits are caught by the MAC; to reach the parsers behind it, the tests
 * also re-seal edited files with the key (resumeSecrets().macKey), as only
 * shoal itself could. Canonical form:
 * - snapshot: an accepted file re-encodes to exactly its bytes when its
 *   entries are in strictly ascending piece order (the only order
 *   encodeSnapshot writes); a re-sealed file with repeated or unordered
 *   entries keeps the last fingerprint per piece and re-encodes sorted.
 * - journal: the records replayJournal applies, re-encoded in the order it
 *   applied them, are exactly the bytes after the header up to the first
 *   record that is torn, forged, or names a piece past the end.
 * Neither ever throws: unusable state is ignored (null, or no records).
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import fc from 'fast-check';
import {
  decodeSnapshot,
  encodeSnapshot,
  replayJournal,
  type ClaimedPieces,
  type ResumeIdentity,
} from '../../../src/core/resume/resume-store.ts';
import { resumeSecrets } from '../../../src/core/resume/resume-key.ts';
import { applyEdits, fuzzIt, hex, mutatedFrom } from '../../helpers/fuzz.ts';

// The resume key lives in a throwaway state directory, never the user's.
process.env.XDG_STATE_HOME = mkdtempSync(join(tmpdir(), 'shoal-fuzz-state-'));

const HEADER_SIZE = 36;
const ENTRY_SIZE = 12;
const RECORD_SIZE = 28;
const JOURNAL_MAGIC = Buffer.from('SHOALRJ\u0002', 'latin1');

const mac = (...parts: Uint8Array[]) => {
  const hmac = createHmac('sha256', resumeSecrets().macKey);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
};

const arbIdentity: fc.Arbitrary<ResumeIdentity> = fc.record({
  infoHash: fc.uint8Array({ minLength: 20, maxLength: 20 }),
  pieceCount: fc.integer({ min: 1, max: 40 }),
  pieceLength: fc.constantFrom(16384, 262144, 2 ** 28),
});
const print = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

const arbClaimed = (identity: ResumeIdentity) =>
  fc
    .array(fc.tuple(fc.nat(identity.pieceCount - 1), print), { maxLength: 8 })
    .map((entries): ClaimedPieces => new Map(entries));

/** The journal: header, then index (u32 LE), fingerprint (u64 LE), 16 bytes of MAC per record. */
function journalHeader(identity: ResumeIdentity): Buffer {
  const out = Buffer.alloc(HEADER_SIZE);
  JOURNAL_MAGIC.copy(out, 0);
  Buffer.from(identity.infoHash).copy(out, 8);
  out.writeUInt32LE(identity.pieceCount, 28);
  out.writeUInt32LE(identity.pieceLength >>> 0, 32);
  return out;
}

function encodeRecord(identity: ResumeIdentity, index: number, fingerprint: bigint): Buffer {
  const body = Buffer.alloc(12);
  body.writeUInt32LE(index, 0);
  body.writeBigUInt64LE(fingerprint, 4);
  return Buffer.concat([body, mac(journalHeader(identity), body).subarray(0, 16)]);
}

/** A Map that logs every set, so a test sees the order replayJournal applied records in. */
class RecordingMap extends Map<number, bigint> {
  readonly log: [number, bigint][] = [];
  override set(key: number, value: bigint): this {
    this.log?.push([key, value]);
    return super.set(key, value);
  }
}

describe('resume snapshot and journal properties', () => {
  fuzzIt(
    'snapshot round-trips: decode(encode(claimed)) is claimed, and re-encoding gives the same bytes',
    fc.property(
      arbIdentity.chain((identity) => fc.tuple(fc.constant(identity), arbClaimed(identity))),
      ([identity, claimed]) => {
        const bytes = encodeSnapshot(claimed, identity);
        const decoded = decodeSnapshot(bytes, identity);
        expect(decoded).toEqual(claimed);
        expect(hex(encodeSnapshot(decoded!, identity))).toBe(hex(bytes));
      },
    ),
  );

  fuzzIt(
    'snapshot: anything accepted, sealed or re-sealed after edits, re-encodes as the canonical form says',
    fc.property(
      arbIdentity.chain((identity) =>
        fc.tuple(
          fc.constant(identity),
          mutatedFrom(
            arbClaimed(identity).map((c) => encodeSnapshot(c, identity)),
            80,
          ),
          fc.boolean(),
        ),
      ),
      ([identity, edited, reseal]) => {
        let bytes = Buffer.from(edited);
        if (reseal && bytes.length >= 32) {
          const body = bytes.subarray(0, bytes.length - 32);
          bytes = Buffer.concat([body, mac(body)]);
        }
        const decoded = decodeSnapshot(bytes, identity);
        if (decoded === null) return;
        const entries: [number, bigint][] = [];
        for (let at = HEADER_SIZE + 4; at < bytes.length - 32; at += ENTRY_SIZE) {
          entries.push([bytes.readUInt32LE(at), bytes.readBigUInt64LE(at + 4)]);
        }
        expect(decoded).toEqual(new Map(entries));
        const ascending = entries.every(([index], i) => i === 0 || entries[i - 1]![0] < index);
        expect(hex(encodeSnapshot(decoded, identity)) === hex(bytes)).toBe(ascending);
      },
    ),
  );

  fuzzIt(
    'journal: the records applied re-encode to exactly the bytes read, up to the first bad one',
    fc.property(
      arbIdentity.chain((identity) =>
        fc.tuple(
          fc.constant(identity),
          fc.array(fc.tuple(fc.nat(identity.pieceCount + 2), print), { maxLength: 4 }),
          fc.array(
            fc.record({
              kind: fc.constantFrom('set', 'insert', 'delete', 'truncate'),
              at: fc.nat(),
              byte: fc.integer({ min: 0, max: 255 }),
            }),
            { maxLength: 2 },
          ),
        ),
      ),
      ([identity, records, edits]) => {
        const clean = Buffer.concat([
          journalHeader(identity),
          ...records.map(([index, fingerprint]) => encodeRecord(identity, index, fingerprint)),
        ]);
        const bytes = Buffer.from(applyEdits(clean, edits));
        const claimed = new RecordingMap();
        replayJournal(bytes, identity, claimed);
        const applied = claimed.log;
        if (applied.length === 0) return;
        const read = bytes.subarray(HEADER_SIZE, HEADER_SIZE + applied.length * RECORD_SIZE);
        const again = Buffer.concat(
          applied.map(([index, fp]) => encodeRecord(identity, index, fp)),
        );
        expect(hex(again)).toBe(hex(read));
        // Replay stopped for a reason: the data ran out, or the next record is not a good one.
        const next = HEADER_SIZE + applied.length * RECORD_SIZE;
        if (next + RECORD_SIZE <= bytes.length) {
          const index = bytes.readUInt32LE(next);
          const good = encodeRecord(identity, index, bytes.readBigUInt64LE(next + 4));
          const forged = !good.equals(bytes.subarray(next, next + RECORD_SIZE));
          expect(forged || index >= identity.pieceCount).toBe(true);
        }
      },
    ),
  );
});
