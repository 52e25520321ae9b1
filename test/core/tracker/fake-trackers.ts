/** In-process HTTP and UDP trackers on 127.0.0.1 for the client tests. */
import http from 'node:http';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { encodeBencode } from '../../../src/core/bencode/index.ts';

/** Decodes a raw query string into byte values (the announce parameters are raw bytes). */
export function parseRawQuery(url: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const query = url.includes('?') ? url.slice(url.indexOf('?') + 1) : '';
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const key = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    const bytes: number[] = [];
    for (let i = 0; i < value.length; i++) {
      if (value[i] === '%') {
        bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(value.charCodeAt(i));
    }
    out.set(key, Buffer.from(bytes));
  }
  return out;
}

export interface HttpTrackerHandle {
  base: string;
  requests: { path: string; query: Map<string, Buffer> }[];
  /** Requests received and not yet answered (or closed), and the most there ever were. */
  inFlight: number;
  maxInFlight: number;
  /** Overrides what /announce answers. */
  announceBody: Record<string, unknown>;
  close(): Promise<void>;
}

export const compactPeers = Buffer.from([10, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0x1a, 0xe2]);

export async function startHttpTracker(): Promise<HttpTrackerHandle> {
  const sockets = new Set<import('node:net').Socket>();
  const handle: HttpTrackerHandle = {
    base: '',
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    announceBody: { interval: 1800, complete: 3, incomplete: 4, peers: compactPeers },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0]!;
    handle.requests.push({ path, query: parseRawQuery(url) });
    handle.maxInFlight = Math.max(handle.maxInFlight, ++handle.inFlight);
    let done = false;
    const settle = () => {
      if (!done) handle.inFlight--;
      done = true;
    };
    // Counted out when the answer is written, before the client can read it and ask again.
    res.on('close', settle);
    const send = (
      status: number,
      body: Uint8Array | string,
      headers: http.OutgoingHttpHeaders = {},
    ) => {
      settle();
      res.writeHead(status, headers);
      res.end(body);
    };
    if (path === '/announce') return send(200, encodeBencode(handle.announceBody));
    if (path === '/fail') {
      return send(200, encodeBencode({ 'failure reason': 'torrent not registered' }));
    }
    // A failure that takes a while: announces in flight at once show in maxInFlight.
    if (path.startsWith('/fail-later')) {
      const timer = setTimeout(
        () => send(200, encodeBencode({ 'failure reason': 'not here' })),
        50,
      );
      res.on('close', () => clearTimeout(timer));
      return;
    }
    if (path === '/fail-404')
      return send(404, encodeBencode({ 'failure reason': 'no such tracker' }));
    if (path === '/500') return send(500, 'Internal Server Error');
    const redirect = /^\/redirect\/(\d+)$/.exec(path);
    if (redirect) {
      const n = Number(redirect[1]);
      const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
      const next = n === 0 ? `/announce${query}` : `/redirect/${n - 1}${query}`;
      return send(302, '', { Location: next });
    }
    if (path === '/redirect-ftp') return send(302, '', { Location: 'ftp://127.0.0.1/announce' });
    if (path === '/huge') {
      // Chunked, no Content-Length: the client must count bytes as they arrive.
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = (): void => {
        while (sent < 8 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => (sent = Infinity));
      pump();
      return;
    }
    if (path === '/huge-declared') {
      res.writeHead(200, { 'Content-Length': String(50 * 1024 * 1024) });
      res.write('d');
      return;
    }
    if (path === '/slow') return; // never answers
    if (path === '/garbage')
      return send(200, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x64, 0x31]));
    send(404, 'not found');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  handle.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return handle;
}

export type UdpMode = 'normal' | 'wrong-txid-first' | 'error' | 'silent' | 'drop-first';

export interface UdpTrackerHandle {
  url: string;
  mode: UdpMode;
  requests: { action: number; event?: number; port?: number }[];
  close(): Promise<void>;
}

/** Over IPv6 (::1) the announce reply carries 18-byte IPv6 peers, as BEP 15 says. */
export const compactPeers6 = Buffer.from([
  ...[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9],
  0x1a,
  0xe1,
]);

export async function startUdpTracker(ipv6 = false): Promise<UdpTrackerHandle> {
  const socket = dgram.createSocket(ipv6 ? 'udp6' : 'udp4');
  const connectionId = 0x1122334455667788n;
  let dropped = false;
  const handle: UdpTrackerHandle = {
    url: '',
    mode: 'normal',
    requests: [],
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 16) return;
    const action = msg.readUInt32BE(8);
    const txid = msg.readUInt32BE(12);
    handle.requests.push(
      action === 1
        ? { action, event: msg.readUInt32BE(80), port: msg.readUInt16BE(96) }
        : { action },
    );
    const reply = (b: Buffer) => socket.send(b, rinfo.port, rinfo.address);
    if (handle.mode === 'silent') return;
    if (handle.mode === 'drop-first' && !dropped) {
      dropped = true;
      return;
    }
    if (handle.mode === 'error' && action === 1) {
      const b = Buffer.concat([Buffer.alloc(8), Buffer.from('info_hash not allowed')]);
      b.writeUInt32BE(3, 0);
      b.writeUInt32BE(txid, 4);
      return reply(b);
    }
    if (handle.mode === 'wrong-txid-first') {
      // A stale answer, and a runt, before the real one: both must be ignored.
      const wrong = Buffer.alloc(16);
      wrong.writeUInt32BE(action, 0);
      wrong.writeUInt32BE((txid + 1) >>> 0, 4);
      reply(wrong);
      reply(Buffer.from([1, 2, 3]));
    }
    if (action === 0) {
      if (msg.readBigUInt64BE(0) !== 0x41727101980n) return;
      const b = Buffer.alloc(16);
      b.writeUInt32BE(0, 0);
      b.writeUInt32BE(txid, 4);
      b.writeBigUInt64BE(connectionId, 8);
      return reply(b);
    }
    if (msg.readBigUInt64BE(0) !== connectionId) return;
    if (action === 1) {
      const peers = ipv6 ? compactPeers6 : compactPeers;
      const b = Buffer.alloc(20 + peers.length);
      b.writeUInt32BE(1, 0);
      b.writeUInt32BE(txid, 4);
      b.writeUInt32BE(1200, 8);
      b.writeUInt32BE(4, 12);
      b.writeUInt32BE(3, 16);
      peers.copy(b, 20);
      return reply(b);
    }
    if (action === 2) {
      const b = Buffer.alloc(20);
      b.writeUInt32BE(2, 0);
      b.writeUInt32BE(txid, 4);
      b.writeUInt32BE(7, 8);
      b.writeUInt32BE(8, 12);
      b.writeUInt32BE(9, 16);
      return reply(b);
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, ipv6 ? '::1' : '127.0.0.1', resolve));
  const host = ipv6 ? '[::1]' : '127.0.0.1';
  handle.url = `udp://${host}:${socket.address().port}/announce`;
  return handle;
}
