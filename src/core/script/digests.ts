/**
 * `--expect sha256:HEX` and `--expect-file PATH=sha256:HEX`: what a file must
 * hash to once it is downloaded and verified against the torrent. Parsed and
 * tied to file indexes before the download starts (a typo is exit 2 at once,
 * not after an hour), checked after it (a mismatch is exit 6; the data stays).
 */
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { diskErrorFrom, UsageError, VerifyError } from '../errors.ts';
import type { TorrentFile } from '../metainfo/types.ts';

export interface ExpectedDigest {
  /** The file index in the torrent. */
  index: number;
  /** How the user named it (for messages). */
  label: string;
  /** Lower-case hex SHA-256. */
  sha256: string;
}

/** `sha256:` followed by 64 hex digits; returns the lower-case hex. */
export function parseSha256(text: string, flag: string): string {
  const match = /^sha256:([0-9a-f]{64})$/i.exec(text.trim());
  if (!match) throw new UsageError(`invalid ${flag} "${text}": use sha256: and 64 hex digits`);
  return match[1].toLowerCase();
}

/**
 * The expectations of `--expect` (single-file torrents only) and each
 * `--expect-file PATH=sha256:HEX`, tied to the file they name. PATH is the
 * file's path as `shoal inspect --json` writes it, or its path inside the
 * torrent's folder. Every named file must be selected.
 */
export function resolveExpectations(
  flags: { expect?: string; expectFile?: readonly string[] },
  meta: { multiFile: boolean; files: readonly TorrentFile[] },
  selected: readonly number[] | null,
): ExpectedDigest[] {
  const expected: ExpectedDigest[] = [];
  if (flags.expect !== undefined) {
    const real = meta.files.flatMap((file, i) => (file.padding ? [] : [i]));
    if (meta.multiFile || real.length !== 1)
      throw new UsageError(
        '--expect applies to single-file torrents; use --expect-file PATH=sha256:HEX for each file',
      );
    const index = real[0];
    expected.push({
      index,
      label: meta.files[index].path.join('/'),
      sha256: parseSha256(flags.expect, '--expect'),
    });
  }
  for (const text of flags.expectFile ?? []) {
    const split = text.lastIndexOf('=');
    if (split <= 0) throw new UsageError(`invalid --expect-file "${text}": use PATH=sha256:HEX`);
    const path = text.slice(0, split);
    const sha256 = parseSha256(text.slice(split + 1), '--expect-file');
    const index = fileNamed(path, meta);
    if (selected && !selected.includes(index))
      throw new UsageError(`--expect-file ${path}: that file is not selected for download`);
    expected.push({ index, label: path, sha256 });
  }
  return expected;
}

/** The index of the file PATH names exactly (no glob: a digest is for one file). */
function fileNamed(
  path: string,
  meta: { multiFile: boolean; files: readonly TorrentFile[] },
): number {
  const wanted = path.replace(/^\.\//, '');
  const found = meta.files.findIndex(
    (file) =>
      !file.padding &&
      (file.path.join('/') === wanted ||
        (meta.multiFile && file.path.slice(1).join('/') === wanted)),
  );
  if (found < 0)
    throw new UsageError(
      `--expect-file ${path}: no such file in the torrent; see shoal inspect --files`,
    );
  return found;
}

/** Hex SHA-256 of a file, streamed (constant memory whatever its size). */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
      hash.update(chunk as Buffer);
  } catch (error) {
    throw diskErrorFrom(error, 'read', path);
  }
  return hash.digest('hex');
}

/** Exit 6 on the first file whose digest differs, naming it and both digests. */
export function checkExpectations(
  expected: readonly ExpectedDigest[],
  actual: ReadonlyMap<number, string>,
): void {
  for (const { index, label, sha256 } of expected) {
    const got = actual.get(index);
    if (got !== sha256)
      throw new VerifyError(`${label}: sha256 is ${got ?? 'unknown'}, expected ${sha256}`);
  }
}
