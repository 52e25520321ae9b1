/**
 * A minimal bencode reader for the harness's own checks (kept apart from
 * src/ so a benchmark does not trust the code it measures).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export type BValue = number | Buffer | BValue[] | { [key: string]: BValue };

interface Decoded {
  value: BValue;
  /** The raw bytes of the top-level dictionary's `info` value. */
  info: Buffer | null;
}

export function decode(buf: Buffer): Decoded {
  let pos = 0;
  let info: Buffer | null = null;
  const next = (depth: number): BValue => {
    const c = buf[pos];
    if (c === 0x69) {
      const end = buf.indexOf(0x65, pos);
      const n = Number(buf.toString('latin1', pos + 1, end));
      pos = end + 1;
      return n;
    }
    if (c === 0x6c) {
      pos++;
      const list: BValue[] = [];
      while (buf[pos] !== 0x65) list.push(next(depth + 1));
      pos++;
      return list;
    }
    if (c === 0x64) {
      pos++;
      const dict: { [key: string]: BValue } = {};
      while (buf[pos] !== 0x65) {
        const key = (next(depth + 1) as Buffer).toString('latin1');
        const start = pos;
        dict[key] = next(depth + 1);
        if (depth === 0 && key === 'info') info = buf.subarray(start, pos);
      }
      pos++;
      return dict;
    }
    const colon = buf.indexOf(0x3a, pos);
    if (colon < 0) throw new Error('bad bencode');
    const len = Number(buf.toString('latin1', pos, colon));
    pos = colon + 1 + len;
    return buf.subarray(colon + 1, pos);
  };
  const value = next(0);
  return { value, info };
}

export interface TorrentFacts {
  infoHash: string;
  infoKeys: string[];
  pieces: Buffer | null;
  pieceLength: number;
}

export async function torrentFacts(file: string): Promise<TorrentFacts> {
  const { value, info } = decode(await readFile(file));
  if (!info) throw new Error(`${file}: no info dictionary`);
  const dict = (value as { [key: string]: BValue }).info as { [key: string]: BValue };
  return {
    infoHash: createHash('sha1').update(info).digest('hex'),
    infoKeys: Object.keys(dict).sort(),
    pieces: Buffer.isBuffer(dict.pieces) ? dict.pieces : null,
    pieceLength: dict['piece length'] as number,
  };
}
