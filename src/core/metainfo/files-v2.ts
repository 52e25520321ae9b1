/**
 * The BEP 52 file tree, walked in its byte order (the order files occupy
 * the piece space) over the original bytes of the info dictionary, which the
 * bencode scan has already validated. Names come from the raw key bytes: the
 * generic decoder turns non-UTF-8 keys into hex, which could merge two names.
 */
import { defaultBencodeLimits, scanBencode } from '../bencode/index.ts';
import {
  MAX_FILES,
  checkPathSize,
  entryLength,
  parseSymlinkPath,
  rawFile,
  type RawFiles,
} from './file-entry.ts';
import type { TorrentFile } from './types.ts';
import { decodeOrFail, fail, printable } from './fields.ts';
import { decodeName, latin1Text as latin1 } from './text.ts';

const LETTER_D = 0x64;
const LETTER_E = 0x65;
const LETTER_I = 0x69;
const COLON = 0x3a;

/** The [start, end) of the data of the (already validated) byte string at `pos`, and what follows it. */
function stringAt(bytes: Uint8Array, pos: number): { start: number; end: number } {
  let colon = pos;
  while (bytes[colon] !== COLON) colon++;
  const length = Number(latin1(bytes.subarray(pos, colon)));
  return { start: colon + 1, end: colon + 1 + length };
}

/** The files of the tree, in one iterative pass (no recursion however deep the tree). */
export function parseV2Files(infoBytes: Uint8Array): RawFiles & { multiFile: boolean } {
  const treeRange = scanBencode(infoBytes).topLevelRanges.get('file tree');
  if (!treeRange) fail("v2 info has no 'file tree'");
  if (infoBytes[treeRange[0]] !== LETTER_D) fail("'file tree' is not a dictionary");
  const out: RawFiles = { files: [], rawPaths: [], symlinks: new Map() };
  const { files } = out;
  const stack: { keys: string[]; bytes: number; file: boolean; children: boolean }[] = [
    { keys: [], bytes: -1, file: false, children: false },
  ];
  let pos = treeRange[0] + 1;
  while (stack.length > 0) {
    const node = stack[stack.length - 1];
    if (infoBytes[pos] === LETTER_E) {
      if (node.file && node.children) fail('file tree entry is both a file and a directory');
      stack.pop();
      pos++;
      continue;
    }
    const keyRange = stringAt(infoBytes, pos);
    const key = latin1(infoBytes.subarray(keyRange.start, keyRange.end));
    pos = keyRange.end;
    if (key === '') {
      if (node.keys.length === 0) fail("'file tree' root is a file");
      if (files.length >= MAX_FILES) fail(`more than ${MAX_FILES} files`);
      const end = scanBencode(infoBytes, defaultBencodeLimits, pos).end;
      const leaf = parseV2Leaf(infoBytes, pos, node.keys);
      if (leaf.symlink !== null) out.symlinks.set(files.length, leaf.symlink);
      files.push(leaf.file);
      out.rawPaths.push([node.keys]);
      node.file = true;
      pos = end;
      continue;
    }
    node.children = true;
    if (infoBytes[pos] !== LETTER_D) fail('file tree entry is not a dictionary');
    const bytes = node.bytes + 1 + key.length;
    checkPathSize(node.keys.length + 1, bytes, `file tree entry '${printable([key])}'`);
    stack.push({ keys: [...node.keys, key], bytes, file: false, children: false });
    pos++;
  }
  if (files.length === 0) fail("'file tree' has no files");
  // A tree holding one file at its top level is a single-file torrent.
  const multiFile = !(files.length === 1 && files[0].path.length === 1);
  return { ...out, multiFile };
}

/** A leaf `{length, pieces root, attr}` read straight from its validated bytes. */
function parseV2Leaf(
  infoBytes: Uint8Array,
  start: number,
  keys: string[],
): { file: TorrentFile; symlink: string[] | null } {
  const components = keys.map((key) => decodeName(Buffer.from(key, 'latin1')));
  const label = printable(components);
  if (infoBytes[start] !== LETTER_D) fail(`file tree entry '${label}' is not a dictionary`);
  const entries = scanBencode(infoBytes, defaultBencodeLimits, start).topLevelRanges;
  const integer = (range: [number, number] | undefined) =>
    range && infoBytes[range[0]] === LETTER_I
      ? Number(latin1(infoBytes.subarray(range[0] + 1, range[1] - 1)))
      : null;
  const string = (range: [number, number] | undefined) => {
    if (!range || infoBytes[range[0]] === LETTER_I || infoBytes[range[0]] === LETTER_D) return null;
    if (infoBytes[range[0]] === 0x6c) return null; // a list
    const { start: from, end } = stringAt(infoBytes, range[0]);
    return infoBytes.subarray(from, end);
  };
  const attrBytes = string(entries.get('attr'));
  const attr = attrBytes ? latin1(attrBytes) : '';
  // v2 aligns every file to a piece itself: a pad file there can only be a mistake or a trick.
  if (attr.includes('p')) fail(`v2 file '${label}' has the padding attribute`);
  const length = entryLength(attr, integer(entries.get('length')), `file '${label}'`);
  let piecesRoot: Uint8Array | null = null;
  if (length > 0) {
    const root = string(entries.get('pieces root'));
    if (root === null || root.length !== 32) fail(`file '${label}' has no 32-byte 'pieces root'`);
    // All zeros is what a creator writes before hashing: no data can have that root.
    if (root.every((byte) => byte === 0)) fail(`file '${label}' has an all-zero 'pieces root'`);
    piecesRoot = Uint8Array.from(root);
  }
  let symlink: string[] | null = null;
  const symlinkRange = entries.get('symlink path');
  if (attr.includes('l') && symlinkRange) {
    const { value } = decodeOrFail(infoBytes.subarray(...symlinkRange), `file '${label}'`);
    symlink = parseSymlinkPath(value, `file '${label}'`);
  }
  return { file: rawFile(components, length, attr, false, piecesRoot), symlink };
}
