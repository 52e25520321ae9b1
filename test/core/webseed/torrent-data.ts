/**
 * Test data for web seed tests: a payload on disk, the torrent layout a
 * WebSeed needs (built here, as BEP 3/47 lay it out, so these tests do not
 * depend on the metainfo parser), and the bytes any piece range should have,
 * read from the files themselves (padding as zeros).
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import type { WebSeedTorrent } from '../../../src/core/webseed/file-urls.ts';
import { PieceLayout } from '../../../src/core/storage/layout.ts';
import { makeTree, tempDir, type FileSpec } from '../../helpers/files.ts';

export interface Payload {
  /** Directory the HTTP server serves: the payload sits right under it. */
  root: string;
  meta: WebSeedTorrent;
}

type LaidOutFile = WebSeedTorrent['files'][number];

/**
 * Writes the payload under `root` and lays it out: with `single`, one file
 * named `name` (the size of `files[0]`); else the files under `root/name/`.
 * With `pad`, a BEP 47 padding file (`name/.pad/N`) follows every file that
 * does not end on a piece boundary, except the last, as hybrid torrents do.
 */
export async function makePayload(
  name: string,
  files: FileSpec[],
  options: { pieceLength: number; single?: boolean; pad?: boolean },
): Promise<Payload> {
  const root = tempDir('shoal-webseed-');
  const specs = options.single ? [{ path: name, size: files[0]!.size }] : files;
  await makeTree(options.single ? root : path.join(root, name), specs);
  const laidOut: LaidOutFile[] = [];
  let offset = 0;
  specs.forEach((spec, i) => {
    const components = options.single ? [name] : [name, ...spec.path.split('/')];
    laidOut.push({ path: components, length: spec.size, offset, padding: false });
    offset += spec.size;
    const gap = (options.pieceLength - (offset % options.pieceLength)) % options.pieceLength;
    if (options.pad && gap > 0 && spec.size > 0 && i < specs.length - 1) {
      laidOut.push({ path: [name, '.pad', String(gap)], length: gap, offset, padding: true });
      offset += gap;
    }
  });
  return {
    root,
    meta: {
      name,
      multiFile: !options.single,
      files: laidOut,
      pieceLength: options.pieceLength,
      pieceCount: Math.ceil(offset / options.pieceLength),
      spaceSize: offset,
    },
  };
}

/** Size of piece `index`. */
export function pieceSize(payload: Payload, index: number): number {
  return Math.min(
    payload.meta.pieceLength,
    payload.meta.spaceSize - index * payload.meta.pieceLength,
  );
}

/** The bytes [begin, begin + length) of piece `index`, read from the payload's files. */
export async function expectedBytes(
  payload: Payload,
  index: number,
  begin = 0,
  length?: number,
): Promise<Buffer> {
  const layout = new PieceLayout(payload.meta);
  const spans = layout.fileSpans(index, begin, length);
  const out = Buffer.alloc(spans.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const span of spans) {
    if (span.kind === 'data') {
      const file = payload.meta.files[span.fileIndex]!;
      const handle = await open(path.join(payload.root, ...file.path), 'r');
      try {
        await handle.read(out, at, span.length, span.fileOffset);
      } finally {
        await handle.close();
      }
    }
    at += span.length;
  }
  return out;
}
