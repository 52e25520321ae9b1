/**
 * Where each file of a torrent lives on a web seed (BEP 19):
 * - single-file torrent: the URL is the file itself; a URL ending in `/` is a
 *   directory and the torrent's name is appended (as libtorrent does);
 * - multi-file torrent: the URL is a directory (a `/` is added when missing)
 *   and the file's path, torrent name first, is appended, each component
 *   percent-encoded.
 * A query string on the seed URL is kept after the appended path.
 */
import type { TorrentFile } from '../metainfo/types.ts';

export interface WebSeedTorrent {
  name: string;
  multiFile: boolean;
  files: readonly Pick<TorrentFile, 'path' | 'renamedFrom' | 'length' | 'offset' | 'padding'>[];
  pieceLength: number;
  pieceCount: number;
  spaceSize: number;
}

/** Percent-encodes one path component (everything but RFC 3986 unreserved characters). */
function encodeComponent(component: string): string {
  return encodeURIComponent(component).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function withComponents(base: URL, components: readonly string[]): URL {
  const url = new URL(base.href);
  const dir = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  url.pathname = dir + components.map(encodeComponent).join('/');
  return url;
}

/**
 * The URL of every file (null for padding files, never requested). Throws
 * TypeError when `seedUrl` is not an http(s) URL.
 */
export function fileUrls(seedUrl: string, torrent: WebSeedTorrent): (URL | null)[] {
  const base = new URL(seedUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError(`web seed is not an http(s) URL: ${seedUrl}`);
  }
  base.hash = '';
  return torrent.files.map((file) => {
    if (file.padding) return null;
    if (!torrent.multiFile) {
      return base.pathname.endsWith('/') ? withComponents(base, [torrent.name]) : base;
    }
    // The path as the torrent names it: a file renamed locally to avoid a
    // case/Unicode collision is still stored under its own name on the server.
    return withComponents(base, file.renamedFrom ?? file.path);
  });
}
