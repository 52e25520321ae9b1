/**
 * Shared set-up for the RPC tests: a data file with its .torrent (made by
 * mktorrent, with an announce URL nobody listens on), a shoal RPC server on
 * the in-memory test backend, and raw HTTP requests for the hostile-caller
 * checks that a well-behaved client would never send.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { RpcServer, type RpcServerOptions } from '../../../src/core/rpc/server.ts';
import { tempDir } from '../../helpers/files.ts';
import { MemoryBackend } from '../../helpers/rpc-backend.ts';

export const MKTORRENT = '/usr/bin/mktorrent';

/** `dir/name` holding `size` random bytes, and `dir/name.torrent` describing it. */
export async function torrentWithData(
  dir: string,
  name = 'payload.bin',
  size = 300_000,
): Promise<{ data: string; torrent: string }> {
  const data = path.join(dir, name);
  await writeFile(data, randomBytes(size));
  const torrent = path.join(tempDir('shoal-rpc-torrent-'), `${name}.torrent`);
  execFileSync(MKTORRENT, ['-a', 'http://127.0.0.1:9/announce', '-o', torrent, data], {
    stdio: 'pipe',
  });
  return { data, torrent };
}

export interface ShoalRpc {
  server: RpcServer;
  backend: MemoryBackend;
  root: string;
}

export async function startShoalRpc(options: Partial<RpcServerOptions> = {}): Promise<ShoalRpc> {
  const root = tempDir('shoal-rpc-root-');
  const backend = new MemoryBackend(root);
  const server = await RpcServer.start({ backend, port: 0, downloadRoots: [root], ...options });
  return { server, backend, root };
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request exactly as given (no handshake, no retries); bounded at 20 s. */
export function rawRequest(
  port: number,
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    chunks?: Buffer[];
  } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'POST',
        path: options.path ?? '/transmission/rpc',
        headers: options.headers,
        timeout: 20_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 20 s')));
    request.on('error', reject);
    if (options.chunks) {
      for (const chunk of options.chunks) request.write(chunk);
      request.end();
    } else request.end(options.body);
  });
}

/** A full, well-formed call: handshake first, then the request; returns the parsed answer. */
export async function rpcCall(
  port: number,
  request: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const first = await rawRequest(port, { headers, body: JSON.stringify(request) });
  const sessionId = String(first.headers['x-transmission-session-id'] ?? '');
  const answer = await rawRequest(port, {
    headers: { ...headers, 'X-Transmission-Session-Id': sessionId },
    body: JSON.stringify(request),
  });
  return { status: answer.status, json: JSON.parse(answer.body) as Record<string, unknown> };
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
