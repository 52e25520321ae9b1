/**
 * A real HTTP(S) server for web seed tests, on 127.0.0.1: serves the files
 * under a directory with single-range `Range` support and keep-alive, counts
 * connections and requests, and can switch to hostile behaviours (ignore
 * Range, lie about lengths, cut bodies short, drip, never end, redirect,
 * answer 404/503). Also a tiny forward/CONNECT proxy that counts what it
 * carries. Everything it starts is closed by `close()`.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

export type Behaviour =
  | { kind: 'normal' }
  /** 200 with the whole file, whatever Range says. */
  | { kind: 'ignore-range' }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** A redirect to `to(path)` (a URL, absolute or relative). */
  | { kind: 'redirect'; status?: number; to: (urlPath: string) => string }
  /** 206 whose Content-Length is one more than the range (and that many bytes are sent). */
  | { kind: 'wrong-length' }
  /** 206 whose Content-Range starts one byte later than asked. */
  | { kind: 'wrong-range' }
  /** 206 with honest headers, half the body, then the connection is cut. */
  | { kind: 'short-body' }
  /** 206 with honest headers, then one byte every `intervalMs`. */
  | { kind: 'drip'; intervalMs: number }
  /** Reads the request and never answers. */
  | { kind: 'silent' }
  /** 200 claiming a 10 GiB body, then data for as long as the client reads. */
  | { kind: 'huge' }
  /** 206 with honest Content-Range, chunked, and a body that never ends. */
  | { kind: 'endless' }
  /** Served as 'normal', but only once `until` settles: a mirror slower than another, without timing. */
  | { kind: 'held'; until: Promise<unknown> };

export interface RequestRecord {
  path: string;
  range: string | undefined;
  /** Which connection (1, 2, ... in order of arrival) carried it. */
  connection: number;
}

export interface HttpFileServer {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`, no trailing slash. */
  origin: string;
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  requests: RequestRecord[];
  /** Behaviour for every request from now on, or per request (`n` counts from 1). */
  setBehaviour(behaviour: Behaviour | ((urlPath: string, n: number) => Behaviour)): void;
  /** Bytes of hostile endless/huge bodies written so far (to show the client stopped reading). */
  hostileBytesSent(): number;
  close(): Promise<void>;
}

/**
 * Settles once `server` has had a request and `graceMs` more have passed, or
 * after `maxMs` whatever happened: hold a fast mirror back with it (behaviour
 * 'held') so that another one is surely asked first, without a timing bet.
 */
export function afterAsked(server: HttpFileServer, graceMs: number, maxMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (server.requests.length === 0) return;
      clearInterval(poll);
      setTimeout(resolve, graceMs);
    }, 20);
    setTimeout(() => {
      clearInterval(poll);
      resolve();
    }, maxMs);
  });
}

const CHUNK = Buffer.alloc(64 * 1024, 0x61);

/** Parses `bytes=a-b` / `bytes=a-` against a file size; null when absent or unsatisfiable. */
function parseRange(header: string | undefined, size: number): [number, number] | null {
  const match = /^bytes=(\d+)-(\d*)$/.exec(header ?? '');
  if (!match) return null;
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return start <= end ? [start, end] : null;
}

function rawHead(status: string, headers: Record<string, string | number>): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `HTTP/1.1 ${status}\r\n${lines.join('')}\r\n`;
}

async function readSlice(file: string, start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(file, { start, end })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startHttpFileServer(
  root: string,
  options: { tls?: { key: string; cert: string }; port?: number } = {},
): Promise<HttpFileServer> {
  let behaviourOf: (urlPath: string, n: number) => Behaviour = () => ({ kind: 'normal' });
  let connectionCount = 0;
  let hostileBytes = 0;
  const requests: RequestRecord[] = [];
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const connectionIds = new WeakMap<net.Socket, number>();

  const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    const socket = req.socket;
    requests.push({
      path: url.pathname,
      range: req.headers.range,
      connection: connectionIds.get(socket) ?? 0,
    });
    let behaviour = behaviourOf(url.pathname, requests.length);
    if (behaviour.kind === 'held') {
      await behaviour.until;
      behaviour = { kind: 'normal' };
    }
    if (behaviour.kind === 'status') {
      res.writeHead(behaviour.status, { 'Content-Length': 0, ...behaviour.headers }).end();
      return;
    }
    if (behaviour.kind === 'redirect') {
      res.writeHead(behaviour.status ?? 302, {
        Location: behaviour.to(url.pathname),
        'Content-Length': 0,
      });
      res.end();
      return;
    }
    if (behaviour.kind === 'silent') return;
    if (behaviour.kind === 'huge') {
      socket.write(rawHead('200 OK', { 'Content-Length': 10 * 1024 ** 3 }));
      const pump = (): void => {
        while (!socket.destroyed && socket.write(CHUNK)) hostileBytes += CHUNK.length;
        if (!socket.destroyed) socket.once('drain', pump);
      };
      pump();
      return;
    }
    const file = path.join(root, decodeURIComponent(url.pathname));
    const info = await stat(file).catch(() => null);
    if (!file.startsWith(root + path.sep) || info === null || !info.isFile()) {
      res.writeHead(404, { 'Content-Length': 0 }).end();
      return;
    }
    const size = info.size;
    const range = parseRange(req.headers.range, size);
    if (behaviour.kind === 'ignore-range' || range === null) {
      res.writeHead(200, { 'Content-Length': size });
      createReadStream(file).pipe(res);
      return;
    }
    const [start, end] = range;
    const length = end - start + 1;
    const honest = {
      'Content-Range': `bytes ${start}-${end}/${size}`,
      'Content-Length': length,
    };
    switch (behaviour.kind) {
      case 'normal':
        res.writeHead(206, honest);
        createReadStream(file, { start, end }).pipe(res);
        return;
      case 'wrong-range': {
        const shifted = Math.min(end + 1, size - 1);
        res.writeHead(206, {
          'Content-Range': `bytes ${start + 1}-${shifted}/${size}`,
          'Content-Length': shifted - start,
        });
        createReadStream(file, { start: start + 1, end: shifted }).pipe(res);
        return;
      }
      case 'wrong-length': {
        const body = Buffer.concat([await readSlice(file, start, end), Buffer.from('!')]);
        socket.write(rawHead('206 Partial Content', { ...honest, 'Content-Length': length + 1 }));
        socket.end(body);
        return;
      }
      case 'short-body': {
        const body = await readSlice(file, start, end);
        socket.write(rawHead('206 Partial Content', honest));
        socket.write(body.subarray(0, Math.floor(length / 2)), () => socket.destroy());
        return;
      }
      case 'drip': {
        const body = await readSlice(file, start, end);
        socket.write(rawHead('206 Partial Content', honest));
        let sent = 0;
        const timer = setInterval(() => {
          if (socket.destroyed || sent >= body.length) {
            clearInterval(timer);
            timers.delete(timer);
            return;
          }
          socket.write(body.subarray(sent, sent + 1));
          sent++;
        }, behaviour.intervalMs);
        timers.add(timer);
        return;
      }
      case 'endless': {
        socket.write(
          rawHead('206 Partial Content', {
            'Content-Range': honest['Content-Range'],
            'Transfer-Encoding': 'chunked',
          }),
        );
        const frame = Buffer.concat([
          Buffer.from(`${CHUNK.length.toString(16)}\r\n`),
          CHUNK,
          Buffer.from('\r\n'),
        ]);
        const pump = (): void => {
          while (!socket.destroyed && socket.write(frame)) hostileBytes += CHUNK.length;
          if (!socket.destroyed) socket.once('drain', pump);
        };
        pump();
        return;
      }
      default:
        res.writeHead(500).end();
    }
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    handler(req, res).catch(() => res.destroy());
  };
  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener)
    : http.createServer(listener);
  // Count TCP connections (for TLS, the underlying socket: one per handshake).
  const onConnection = (socket: net.Socket): void => {
    connectionIds.set(socket, ++connectionCount);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  if (options.tls) {
    server.on('secureConnection', (socket: net.Socket) => {
      connectionIds.set(socket, ++connectionCount);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  } else {
    server.on('connection', onConnection);
  }
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    connections: () => connectionCount,
    requests,
    setBehaviour(behaviour) {
      behaviourOf = typeof behaviour === 'function' ? behaviour : () => behaviour;
    },
    hostileBytesSent: () => hostileBytes,
    close: async () => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface TestProxy {
  url: string;
  /** CONNECT tunnels opened, and forward (absolute-URL) requests carried. */
  connects: string[];
  forwards: string[];
  close(): Promise<void>;
}

/**
 * A forward proxy on 127.0.0.1: absolute-URL requests are passed on to their
 * origin, CONNECT opens a TCP tunnel. Only to 127.0.0.1 (tests stay on
 * loopback), under that address or a name listed in `hosts` (which the proxy
 * alone knows, like a corporate proxy that resolves names its clients cannot).
 */
export async function startHttpProxy(hosts: readonly string[] = []): Promise<TestProxy> {
  const reachable = (host: string | undefined): boolean =>
    host === '127.0.0.1' || (host !== undefined && hosts.includes(host));
  const connects: string[] = [];
  const forwards: string[] = [];
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = http.createServer((req, res) => {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    forwards.push(target.href);
    if (!reachable(target.hostname)) {
      res.writeHead(403).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const upstream = http.request(
      {
        host: '127.0.0.1',
        port: Number(target.port || 80),
        path: `${target.pathname}${target.search}`,
        method: req.method,
        headers,
        agent: false,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', track);
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    if (!reachable(host)) {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = net.connect(Number(port), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    forwards,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const OPENSSL = '/usr/bin/openssl';

/**
 * A self-signed certificate for 127.0.0.1 made with openssl in `dir` (the
 * test trusts it through the agent's `ca`). Fails, saying so, without openssl.
 */
export function selfSignedCert(dir: string): { key: string; cert: string } {
  if (!existsSync(OPENSSL)) throw new Error('openssl not installed: apt-get install openssl');
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
}
