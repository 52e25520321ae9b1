/** BEP 19 URL mapping (pure): which URL each file of a torrent is fetched from. */
import { describe, expect, it } from 'vitest';
import { fileUrls, type WebSeedTorrent } from '../../../src/core/webseed/file-urls.ts';

function torrent(multiFile: boolean, files: WebSeedTorrent['files']): WebSeedTorrent {
  const size = files.reduce((n, f) => n + f.length, 0);
  return { name: 'My Data', multiFile, files, pieceLength: 16384, pieceCount: 1, spaceSize: size };
}

const file = (path: string[], length = 10, padding = false, renamedFrom?: string[]) => ({
  path,
  length,
  offset: 0,
  padding,
  renamedFrom,
});

describe('fileUrls', () => {
  it('single-file: the URL is the file; a URL ending in / gets the name appended', () => {
    const single = torrent(false, [file(['My Data'])]);
    expect(fileUrls('http://m.example/pub/data.iso', single).map(String)).toEqual([
      'http://m.example/pub/data.iso',
    ]);
    expect(fileUrls('http://m.example/pub/', single).map(String)).toEqual([
      'http://m.example/pub/My%20Data',
    ]);
  });

  it('multi-file: name and path appended, every component percent-encoded, a / added when missing', () => {
    const multi = torrent(true, [
      file(['My Data', 'a b', "c#?%&'+.txt"]),
      file(['My Data', '.pad', '100'], 100, true),
      file(['My Data', 'é', 'x(1)!*.bin']),
    ]);
    const urls = fileUrls('https://m.example:8443/mirror?token=abc#frag', multi);
    expect(urls[0]!.href).toBe(
      'https://m.example:8443/mirror/My%20Data/a%20b/c%23%3F%25%26%27%2B.txt?token=abc',
    );
    expect(urls[1]).toBeNull();
    expect(urls[2]!.href).toBe(
      'https://m.example:8443/mirror/My%20Data/%C3%A9/x%281%29%21%2A.bin?token=abc',
    );
    expect(fileUrls('http://m.example/dir/', multi)[0]!.pathname).toBe(
      '/dir/My%20Data/a%20b/c%23%3F%25%26%27%2B.txt',
    );
  });

  it('a file renamed locally (case collision) is fetched under its own name', () => {
    const multi = torrent(true, [
      file(['My Data', 'README']),
      file(['My Data', 'readme (1)'], 10, false, ['My Data', 'readme']),
    ]);
    expect(fileUrls('http://m.example/', multi)[1]!.pathname).toBe('/My%20Data/readme');
  });

  it('refuses URLs that are not http(s)', () => {
    expect(() => fileUrls('ftp://m.example/x', torrent(false, [file(['x'])]))).toThrow(
      /not an http/,
    );
    expect(() => fileUrls('not a url', torrent(false, [file(['x'])]))).toThrow(TypeError);
  });
});
