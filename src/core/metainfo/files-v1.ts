/**
 * The v1 file list (BEP 3 `files`, or the single file of `length`), read
 * from the decoded info dictionary. Prefers `path.utf-8` when it is valid
 * UTF-8 (BitComet writes both); BEP 47 pad files need no path.
 */
import { isBytes, isDict, type BencodeDict, type BencodeValue } from '../bencode/index.ts';
import {
  MAX_FILES,
  checkPathSize,
  entryLength,
  isLegacyPadding,
  parseAttr,
  parseSymlinkPath,
  pathBytes,
  rawFile,
  type RawFiles,
} from './file-entry.ts';
import { fail, get, isLength, type FileListBytes } from './fields.ts';
import { readV1FileList } from './files-v1-list.ts';
import { decodeName, isValidUtf8 } from './text.ts';

/** The keys a file's path may be under, in the order tried. */
const PATH_KEYS = ['path.utf-8', 'path'];

/**
 * `fileList`: where the `files` list was left undecoded (fields.ts `decodeOrFail`), read by
 * files-v1-list.ts; null when it was decoded into `info` (or there is none).
 * `keepRawPaths`: a hybrid, whose paths are compared with its v2 tree's.
 */
export function parseV1Files(
  info: BencodeDict,
  nameBytes: Uint8Array[],
  fileList: FileListBytes | null = null,
  keepRawPaths = true,
): RawFiles & { multiFile: boolean } {
  const length = get(info, 'length');
  const list = get(info, 'files');
  if (length !== undefined && (list !== undefined || fileList !== null))
    fail("info has both 'length' and 'files'");
  if (list === undefined && fileList === null) {
    const attr = parseAttr(get(info, 'attr'));
    if (length === undefined && !attr.includes('l')) fail("info has neither 'length' nor 'files'");
    if (!attr.includes('l') && !isLength(length)) fail("'length' is not a non-negative integer");
    const fileLength = entryLength(attr, length, 'the file');
    const symlink = attr.includes('l')
      ? parseSymlinkPath(get(info, 'symlink path'), 'the file')
      : null;
    return {
      multiFile: false,
      files: [rawFile([], fileLength, attr, attr.includes('p'), null)],
      rawPaths: [nameBytes.map((bytes) => [bytes])],
      symlinks: new Map(symlink === null ? [] : [[0, symlink]]),
    };
  }
  if (fileList !== null) {
    return { ...readV1FileList(fileList.bytes, fileList.range[0], keepRawPaths), multiFile: true };
  }
  return { ...parseV1FileEntries(list!), multiFile: true };
}

/** The decoded `files` value's entries (the reference readV1FileList must agree with). */
export function parseV1FileEntries(list: BencodeValue): RawFiles {
  if (!Array.isArray(list)) fail("'files' is not a list");
  if (list.length === 0) fail("'files' is empty");
  if (list.length > MAX_FILES) fail(`more than ${MAX_FILES} files`);
  const out: RawFiles = { files: [], rawPaths: [], symlinks: new Map() };
  for (const [index, entry] of list.entries()) {
    if (!isDict(entry)) fail(`file ${index} is not a dictionary`);
    const attr = parseAttr(get(entry, 'attr'));
    const fileLength = entryLength(attr, get(entry, 'length'), `file ${index}`);
    const variants: Uint8Array[][] = [];
    for (const key of PATH_KEYS) {
      const path = get(entry, key);
      if (Array.isArray(path) && path.every(isBytes)) {
        checkPathSize(path.length, pathBytes(path), `file ${index}`);
        variants.push(path);
      }
    }
    const utf8 = variants.find((v) => v.length > 0 && v.every(isValidUtf8));
    const chosen = utf8 ?? variants.find((v) => v.length > 0);
    let components: string[];
    if (chosen !== undefined) components = chosen.map(decodeName);
    // BEP 47 pad files need no path; libtorrent files them under `.pad/<length>`.
    else if (attr.includes('p')) components = ['.pad', String(fileLength)];
    else if (variants.length > 0) fail(`file ${index} has an empty 'path'`);
    else fail(`file ${index} has no valid 'path'`);
    const symlink = attr.includes('l')
      ? parseSymlinkPath(get(entry, 'symlink path'), `file ${index}`)
      : null;
    if (symlink !== null) out.symlinks.set(index, symlink);
    out.rawPaths.push(variants);
    const padding = attr.includes('p') || isLegacyPadding(components);
    out.files.push(rawFile(components, fileLength, attr, padding, null));
  }
  return out;
}
