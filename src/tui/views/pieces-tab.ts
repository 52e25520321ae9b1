/**
 * The Pieces tab: a map of the torrent's pieces that fits the pane. When
 * there are more pieces than cells, each cell stands for a run of pieces and
 * shows whether it has all, some or none of them. (Over the RPC only verified
 * pieces are known, so "some" is where the download is under way.)
 */
import { fit } from '../text.ts';
import type { Theme } from '../theme.ts';
import type { TuiPieces } from '../types.ts';

function has(bitfield: Uint8Array, piece: number): boolean {
  return ((bitfield[piece >> 3] ?? 0) & (0x80 >> (piece & 7))) !== 0;
}

/** Fraction of pieces present in each of `cells` equal runs. */
export function pieceCells(pieces: TuiPieces, cells: number): number[] {
  const count = pieces.pieceCount;
  const n = Math.min(cells, count);
  const out: number[] = [];
  for (let c = 0; c < n; c++) {
    const from = Math.floor((c * count) / n);
    const to = Math.floor(((c + 1) * count) / n);
    let present = 0;
    for (let p = from; p < to; p++) if (has(pieces.bitfield, p)) present++;
    out.push(present / Math.max(1, to - from));
  }
  return out;
}

export function piecesTab(
  pieces: TuiPieces | undefined,
  width: number,
  height: number,
  theme: Theme,
): string[] {
  if (!pieces) return [fit('  loading pieces…', width)];
  if (pieces.pieceCount === 0)
    return [fit('  no pieces yet (the metadata is still being fetched)', width)];
  const { full, partial, empty } = theme.glyphs;
  const mapWidth = Math.max(1, width - 4);
  const mapRows = Math.max(1, height - 2);
  const cells = pieceCells(pieces, mapWidth * mapRows);
  const total = [...Array(pieces.pieceCount).keys()].reduce(
    (n, p) => n + (has(pieces.bitfield, p) ? 1 : 0),
    0,
  );
  const perCell = pieces.pieceCount / cells.length;
  const legend = `  ${theme.paint('green', full)} have  ${theme.paint('yellow', partial)} some  ${empty} missing   ${total}/${pieces.pieceCount} pieces${perCell > 1 ? `, ${perCell.toFixed(1)} per cell` : ''}`;
  const lines = [fit(legend, width)];
  for (let r = 0; r * mapWidth < cells.length && lines.length < height; r++) {
    const glyphs = cells
      .slice(r * mapWidth, (r + 1) * mapWidth)
      .map((f) => (f >= 1 ? full : f > 0 ? partial : empty));
    lines.push(fit(`  ${paintRuns(glyphs.join(''), theme)}`, width));
  }
  return lines;
}

/** One color escape per run of equal glyphs, not per cell. */
function paintRuns(row: string, theme: Theme): string {
  const { full, partial } = theme.glyphs;
  return row.replace(/(.)\1*/gu, (run, glyph: string) =>
    glyph === full
      ? theme.paint('green', run)
      : glyph === partial
        ? theme.paint('yellow', run)
        : run,
  );
}
