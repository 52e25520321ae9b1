/**
 * Sources given as URLs, pipes and devices: every way a download of the
 * .torrent itself can go wrong ends in a ShoalError with the right exit code,
 * in bounded time and memory.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, ShoalError } from '../../../src/core/errors.ts';
import { loadSource, maxTorrentBytes } from '../../../src/core/source/load-source.ts';
import { corpusPath } from '../../helpers/fixtures.ts';

const TORRENT = readFileSync(corpusPath('ubuntu-20.04.4-desktop-amd64.iso.torrent'));

/** Routes of a tiny HTTP server on 127.0.0.1. */
const routes: Record<string, (res: http.ServerResponse) => void> = {
  '/good.torrent': (res) => res.end(TORRENT),
  '/missing.torrent': (res) => {
    res.statusCode = 404;
    res.end();
  },
  // Headers and a first chunk, then nothing.
  '/stalls.torrent': (res) => {
    res.writeHead(200);
    res.write(TORRENT.subarray(0, 100));
  },
  '/claims-huge.torrent': (res) => {
    res.writeHead(200, { 'content-length': String(maxTorrentBytes + 1) });
    res.write('d');
  },
  '/garbage.torrent': (res) => res.end('<html>not a torrent</html>'),
};

let server: http.Server;
let base: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shoal-source-'));
  server = http.createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (route) route(res);
    else res.end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
  rmSync(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<ShoalError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ShoalError);
  return error as ShoalError;
}

describe('loadSource', () => {
  it('fetches a .torrent over HTTP', async () => {
    const source = await loadSource(`${base}/good.torrent`);
    expect(source.kind).toBe('torrent');
    if (source.kind === 'torrent')
      expect(source.meta.name).toBe('ubuntu-20.04.4-desktop-amd64.iso');
  });

  it('turns an HTTP error status into a network error (exit 4)', async () => {
    const error = await failure(loadSource(`${base}/missing.torrent`));
    expect(error.exitCode).toBe(ExitCode.network);
    expect(error.message).toMatch(/HTTP 404/);
  });

  it('gives up on a server that stalls in the middle of the body (exit 4, not a crash)', async () => {
    const error = await failure(loadSource(`${base}/stalls.torrent`, { timeoutMs: 500 }));
    expect(error.exitCode).toBe(ExitCode.network);
    expect(error.message).toMatch(/timed out/);
  });

  it('refuses a body declared larger than any .torrent (exit 3)', async () => {
    const error = await failure(loadSource(`${base}/claims-huge.torrent`));
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.message).toMatch(/too large/);
  });

  it('rejects a page that is not a torrent as bad input (exit 3)', async () => {
    const error = await failure(loadSource(`${base}/garbage.torrent`));
    expect(error.exitCode).toBe(ExitCode.badInput);
  });

  it('refuses a device that never ends instead of reading it forever', async () => {
    const error = await failure(loadSource('/dev/zero'));
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.message).toMatch(/\/dev\/zero is too large/);
  });

  it('names a directory given as a .torrent', async () => {
    const error = await failure(loadSource(dir));
    expect(error.exitCode).toBe(ExitCode.badInput);
    expect(error.message).toMatch(/is a directory/);
  });
});
