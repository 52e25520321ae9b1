import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  PieceLayout,
  type LayoutFile,
  type LayoutInput,
} from '../../../src/core/storage/layout.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 200);

interface FileSpec {
  length: number;
  padding: boolean;
}

/** v1/hybrid: files back to back. v2 (`align`): every non-empty file starts on a piece boundary. */
function build(pieceLength: number, specs: FileSpec[], align: boolean): LayoutInput {
  const files: LayoutFile[] = [];
  let pos = 0;
  for (const spec of specs) {
    if (align && spec.length > 0) pos = Math.ceil(pos / pieceLength) * pieceLength;
    files.push({ length: spec.length, offset: pos, padding: spec.padding && !align });
    pos += spec.length;
  }
  return { pieceLength, pieceCount: Math.ceil(pos / pieceLength), spaceSize: pos, files };
}

const arbLayout = fc
  .record({
    pieceShift: fc.integer({ min: 0, max: 6 }),
    specs: fc.array(fc.record({ length: fc.nat({ max: 300 }), padding: fc.boolean() }), {
      minLength: 1,
      maxLength: 12,
    }),
    align: fc.boolean(),
  })
  .map(({ pieceShift, specs, align }) => build(1 << pieceShift, specs, align))
  .filter((l) => l.spaceSize > 0);

describe('PieceLayout', () => {
  it('spans exactly tile any range of a piece, in order', () => {
    fc.assert(
      fc.property(arbLayout, fc.nat(), fc.nat(), fc.nat(), (input, p, a, b) => {
        const layout = new PieceLayout(input);
        const piece = p % input.pieceCount;
        const size = layout.pieceSize(piece);
        const begin = a % (size + 1);
        const length = b % (size - begin + 1);
        const spans = layout.fileSpans(piece, begin, length);
        let pos = piece * input.pieceLength + begin;
        for (const span of spans) {
          expect(span.length).toBeGreaterThan(0);
          if (span.kind === 'gap') {
            expect(span.fileIndex).toBe(-1);
            expect(span.padding).toBe(true);
            // no file holds these bytes
            for (const f of input.files)
              expect(pos >= f.offset + f.length || pos + span.length <= f.offset).toBe(true);
          } else {
            const f = input.files[span.fileIndex]!;
            expect(f.offset + span.fileOffset).toBe(pos);
            expect(span.fileOffset + span.length).toBeLessThanOrEqual(f.length);
            expect(span.padding).toBe(f.padding);
            expect(span.kind).toBe(f.padding ? 'padding' : 'data');
          }
          pos += span.length;
        }
        expect(pos).toBe(piece * input.pieceLength + begin + length);
        // adjacent spans never split one file needlessly
        for (let i = 1; i < spans.length; i++) {
          const prev = spans[i - 1]!;
          const cur = spans[i]!;
          expect(prev.kind === 'gap' && cur.kind === 'gap').toBe(false);
          if (prev.kind !== 'gap') expect(cur.fileIndex).not.toBe(prev.fileIndex);
        }
      }),
      { numRuns: runs },
    );
  });

  it('piece sizes sum to the space size', () => {
    fc.assert(
      fc.property(arbLayout, (input) => {
        const layout = new PieceLayout(input);
        let sum = 0;
        for (let i = 0; i < input.pieceCount; i++) {
          const s = layout.pieceSize(i);
          expect(s).toBeGreaterThan(0);
          expect(s).toBeLessThanOrEqual(input.pieceLength);
          sum += s;
        }
        expect(sum).toBe(input.spaceSize);
      }),
      { numRuns: runs },
    );
  });

  it('piecesOfFile covers exactly the pieces whose spans touch the file', () => {
    fc.assert(
      fc.property(arbLayout, (input) => {
        const layout = new PieceLayout(input);
        const touched = new Map<number, number[]>();
        for (let i = 0; i < input.pieceCount; i++) {
          for (const span of layout.fileSpans(i)) {
            if (span.fileIndex < 0) continue;
            const list = touched.get(span.fileIndex) ?? [];
            list.push(i);
            touched.set(span.fileIndex, list);
          }
        }
        input.files.forEach((f, idx) => {
          const range = layout.piecesOfFile(idx);
          if (f.length === 0) {
            expect(range).toBeNull();
            expect(touched.has(idx)).toBe(false);
          } else {
            const list = touched.get(idx)!;
            expect(range).toEqual([list[0], list[list.length - 1]]);
            expect(list.length).toBe(range![1] - range![0] + 1);
          }
        });
      }),
      { numRuns: runs },
    );
  });

  it('maps a hand-made layout', () => {
    // a: 5 bytes, pad: 3, empty, b: 10 bytes; piece length 4
    const layout = new PieceLayout({
      pieceLength: 4,
      pieceCount: 5,
      spaceSize: 18,
      files: [
        { length: 5, offset: 0, padding: false },
        { length: 3, offset: 5, padding: true },
        { length: 0, offset: 8, padding: false },
        { length: 10, offset: 8, padding: false },
      ],
    });
    expect(layout.pieceSize(4)).toBe(2);
    expect(layout.fileSpans(1)).toEqual([
      { fileIndex: 0, fileOffset: 4, length: 1, padding: false, kind: 'data' },
      { fileIndex: 1, fileOffset: 0, length: 3, padding: true, kind: 'padding' },
    ]);
    expect(layout.fileSpans(4, 1, 1)).toEqual([
      { fileIndex: 3, fileOffset: 9, length: 1, padding: false, kind: 'data' },
    ]);
    expect(layout.piecesOfFile(3)).toEqual([2, 4]);
    expect(layout.piecesOfFile(2)).toBeNull();
    expect(() => layout.fileSpans(5)).toThrow(RangeError);
    expect(() => layout.fileSpans(4, 1, 2)).toThrow(RangeError);
  });

  it('reports v2 alignment gaps', () => {
    const layout = new PieceLayout({
      pieceLength: 8,
      pieceCount: 2,
      spaceSize: 11,
      files: [
        { length: 3, offset: 0, padding: false },
        { length: 3, offset: 8, padding: false },
      ],
    });
    expect(layout.fileSpans(0)).toEqual([
      { fileIndex: 0, fileOffset: 0, length: 3, padding: false, kind: 'data' },
      { fileIndex: -1, fileOffset: 0, length: 5, padding: true, kind: 'gap' },
    ]);
  });
});
