/**
 * Resolves what a user typed as a source: a .torrent path, `-` for stdin, an
 * http(s) URL of a .torrent, a magnet URI or a bare info-hash. Reading is
 * bounded: a .torrent larger than `maxTorrentBytes` is refused, whatever
 * the file system or server says.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { InputError, NetworkError, diskErrorFrom } from '../errors.ts';
import { parseTorrent, parseInfoHashOrMagnet, type Magnet } from '../metainfo/index.ts';
import type { Metainfo } from '../metainfo/types.ts';

/** Larger than any real .torrent (the biggest public ones are a few tens of MiB). */
export const maxTorrentBytes = 64 * 1024 * 1024;

export type Source =
  | { kind: 'torrent'; meta: Metainfo; bytes: Uint8Array; origin: string }
  | { kind: 'magnet'; magnet: Magnet; origin: string };

export async function loadSource(
  text: string,
  options: { timeoutMs?: number } = {},
): Promise<Source> {
  if (/^magnet:/i.test(text) || /^([0-9a-f]{40}|[a-z2-7]{32}|[0-9a-f]{64})$/i.test(text)) {
    return { kind: 'magnet', magnet: parseInfoHashOrMagnet(text), origin: text };
  }
  const bytes = /^https?:\/\//i.test(text)
    ? await fetchTorrent(text, options.timeoutMs ?? 30_000)
    : text === '-'
      ? await readStdin()
      : await readTorrentFile(text);
  return { kind: 'torrent', meta: parseTorrent(bytes), bytes, origin: text };
}

async function readTorrentFile(path: string): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw new InputError(`${path} is a directory, not a .torrent file`);
    if (info.size > maxTorrentBytes)
      throw new InputError(`${path} is too large to be a .torrent file`);
    // A pipe or device (/dev/zero, <(curl ...)) has no size to check up front.
    if (!info.isFile()) return await readCapped(createReadStream(path), path);
    return await readFile(path);
  } catch (error) {
    if (error instanceof InputError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new InputError(
        `no such file: ${path} (expected a .torrent file, magnet link or info-hash)`,
      );
    }
    throw diskErrorFrom(error, 'read', path);
  }
}

async function readStdin(): Promise<Uint8Array> {
  const bytes = await readCapped(process.stdin, 'standard input');
  if (bytes.length === 0)
    throw new InputError('standard input is empty (expected a .torrent file)');
  return bytes;
}

/** Reads a stream to its end, refusing it once it passes maxTorrentBytes. */
async function readCapped(stream: AsyncIterable<Uint8Array>, what: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > maxTorrentBytes) throw new InputError(`${what} is too large to be a .torrent file`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function fetchTorrent(url: string, timeoutMs: number): Promise<Uint8Array> {
  // One deadline for the headers and the whole body: a server that stalls mid-body times out too.
  const signal = AbortSignal.timeout(timeoutMs);
  const failed = (error: unknown): NetworkError => {
    const reason =
      signal.aborted || (error as Error).name === 'TimeoutError'
        ? `timed out after ${timeoutMs / 1000} s`
        : ((error as Error).cause as Error)?.message;
    return new NetworkError(`cannot fetch ${url}: ${reason ?? (error as Error).message}`, {
      cause: error,
    });
  };
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    throw failed(error);
  }
  if (!response.ok)
    throw new NetworkError(`cannot fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxTorrentBytes) throw new InputError(`${url} is too large to be a .torrent file`);
  try {
    return response.body ? await readCapped(response.body, url) : new Uint8Array(0);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw failed(error);
  }
}
