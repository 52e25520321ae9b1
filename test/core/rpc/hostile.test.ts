/**
 * Hostile callers of shoal's RPC server: each gets a clear refusal (status
 * and a one-line reason, or the protocol's error result), the backend never
 * sees the request, and the server answers the next, well-formed request.
 */
import { mkdir, readFile, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RequestGuard } from '../../../src/core/rpc/guard.ts';
import { cleanupTempDirs, tempDir } from '../../helpers/files.ts';
import {
  basic,
  rawRequest,
  rpcCall,
  type ShoalRpc,
  startShoalRpc,
  torrentWithData,
} from './rpc-fixtures.ts';

cleanupTempDirs();

const AUTH = { Authorization: basic('alice', 's3cret') };
let rpc: ShoalRpc | undefined;

afterEach(async () => {
  await rpc?.server.close();
  rpc = undefined;
});

async function start(options: Parameters<typeof startShoalRpc>[0] = {}): Promise<ShoalRpc> {
  rpc = await startShoalRpc({ credentials: { username: 'alice', password: 's3cret' }, ...options });
  return rpc;
}

/** The server still answers a well-formed call after whatever came before. */
async function stillServes(port: number): Promise<void> {
  const { status, json } = await rpcCall(
    port,
    { method: 'session-get', arguments: { fields: ['version'] }, tag: 7 },
    AUTH,
  );
  expect(status).toBe(200);
  expect(json).toMatchObject({ result: 'success', tag: 7 });
}

async function addTorrentArgs(root: string): Promise<Record<string, unknown>> {
  const { torrent } = await torrentWithData(root);
  return { metainfo: (await readFile(torrent)).toString('base64') };
}

describe('shoal RPC server, hostile callers', () => {
  it('answers 409 with a session id, and only that id opens the door', async () => {
    const { server } = await start();
    const first = await rawRequest(server.port, {
      headers: AUTH,
      body: '{"method":"session-get"}',
    });
    expect(first.status).toBe(409);
    expect(first.headers['x-transmission-session-id']).toBe(server.sessionId);
    const forged = await rawRequest(server.port, {
      headers: { ...AUTH, 'X-Transmission-Session-Id': 'guessed' },
      body: '{"method":"session-get"}',
    });
    expect(forged.status).toBe(409);
    await stillServes(server.port);
  });

  it('no credentials and wrong credentials: 401 with Basic challenge, before the session id is handed out', async () => {
    const { server } = await start();
    const none = await rawRequest(server.port, { body: '{"method":"session-get"}' });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic /);
    expect(none.headers['x-transmission-session-id']).toBeUndefined();
    expect(none.body.trim()).toBe('credentials required');
    const wrong = await rawRequest(server.port, {
      headers: { Authorization: basic('alice', 'nope') },
      body: '{"method":"session-get"}',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.trim()).toBe('wrong user name or password');
    await stillServes(server.port);
  });

  it('counts failed logins per caller: after 10, even the right password is refused from that address', async () => {
    const { server } = await start();
    for (let i = 0; i < 10; i++) {
      const wrong = await rawRequest(server.port, {
        headers: { Authorization: basic('alice', `try${i}`) },
      });
      expect(wrong.status).toBe(401);
    }
    const locked = await rawRequest(server.port, { headers: AUTH });
    expect(locked.status).toBe(403);
    expect(locked.body).toContain('too many failed logins');
  });

  it('a foreign Host header (DNS rebinding) gets 421 and never the session id', async () => {
    const { server } = await start();
    for (const host of ['evil.example', 'localhost.evil.example', `evil.example:${server.port}`]) {
      const answer = await rawRequest(server.port, { headers: { ...AUTH, Host: host } });
      expect(answer.status, host).toBe(421);
      expect(answer.headers['x-transmission-session-id']).toBeUndefined();
      expect(answer.body).toContain('not an allowed name');
    }
    for (const host of [
      'localhost',
      `localhost:${server.port}`,
      `127.0.0.1:${server.port}`,
      '[::1]:9091',
    ]) {
      const answer = await rawRequest(server.port, { headers: { ...AUTH, Host: host } });
      expect(answer.status, host).toBe(409);
    }
    await stillServes(server.port);
  });

  it('names given with allowedHosts are accepted', async () => {
    const { server } = await start({ allowedHosts: ['nas.home.arpa'] });
    const answer = await rawRequest(server.port, {
      headers: { ...AUTH, Host: 'NAS.home.arpa:9091' },
    });
    expect(answer.status).toBe(409);
  });

  it('an oversized body gets 413, declared or chunked, and the server goes on', async () => {
    const { server, backend } = await start({ maxBodyBytes: 64 * 1024 });
    const handshake = await rawRequest(server.port, { headers: AUTH });
    const headers = { ...AUTH, 'X-Transmission-Session-Id': server.sessionId };
    const big = Buffer.alloc(200 * 1024, 0x20);
    const declared = await rawRequest(server.port, { headers, body: big });
    expect(handshake.status).toBe(409);
    expect(declared.status).toBe(413);
    expect(declared.body).toContain('larger than 65536 bytes');
    const chunked = await rawRequest(server.port, {
      headers: { ...headers, 'Transfer-Encoding': 'chunked' },
      chunks: Array.from({ length: 8 }, () => big.subarray(0, 32 * 1024)),
    }).catch((error: unknown) => ({ status: -1, error }));
    // Either the 413 arrives, or the connection is cut before the whole body is sent; never a 200.
    expect([413, -1]).toContain(chunked.status);
    expect(backend.calls).toEqual([]);
    await stillServes(server.port);
  });

  it('malformed JSON gets 400 and a one-line reason', async () => {
    const { server } = await start();
    const headers = { ...AUTH, 'X-Transmission-Session-Id': server.sessionId };
    for (const body of ['{"method":', 'not json', '']) {
      const answer = await rawRequest(server.port, { headers, body });
      expect(answer.status, body).toBe(400);
      const json = JSON.parse(answer.body) as { result: string };
      expect(json.result).toMatch(/^malformed JSON: /);
      expect(json.result).not.toContain('\n');
    }
    const notObject = await rpcCall(server.port, [1, 2], AUTH);
    expect(notObject.json.result).toBe('request must be a JSON object');
    await stillServes(server.port);
  });

  it('an unknown method gets the protocol error result, echoing the tag', async () => {
    const { server } = await start();
    const { status, json } = await rpcCall(
      server.port,
      { method: 'torrent-explode', tag: 42 },
      AUTH,
    );
    expect(status).toBe(200);
    expect(json).toEqual({ result: 'method name not recognized', arguments: {}, tag: 42 });
    const proto = await rpcCall(server.port, { method: '__proto__' }, AUTH);
    expect(proto.json.result).toBe('method name not recognized');
    await stillServes(server.port);
  });

  it('paths outside the download roots are refused: sibling prefix, .., a symlink out, relative', async () => {
    const { server, backend, root } = await start();
    const outside = tempDir('shoal-rpc-outside-');
    await symlink(outside, path.join(root, 'link-out'));
    await mkdir(path.join(root, 'inside'));
    const bad = [
      '/etc',
      `${root}-evil`,
      `${root}/../${path.basename(outside)}`,
      path.join(root, 'link-out'),
      path.join(root, 'link-out', 'deeper'),
      'relative/dir',
    ];
    const add = await addTorrentArgs(root);
    for (const dir of bad) {
      const added = await rpcCall(
        server.port,
        { method: 'torrent-add', arguments: { ...add, 'download-dir': dir } },
        AUTH,
      );
      expect(added.json.result, dir).toMatch(/outside the download roots|must be an absolute path/);
    }
    expect(backend.calls).toEqual([]);

    const ok = await rpcCall(
      server.port,
      { method: 'torrent-add', arguments: { ...add, 'download-dir': path.join(root, 'inside') } },
      AUTH,
    );
    expect(ok.json.result).toBe('success');
    const moved = await rpcCall(
      server.port,
      { method: 'torrent-set-location', arguments: { ids: [1], location: '/tmp', move: true } },
      AUTH,
    );
    expect(moved.json.result).toContain('outside the download roots');
    const setDir = await rpcCall(
      server.port,
      { method: 'session-set', arguments: { 'incomplete-dir': '/var/tmp' } },
      AUTH,
    );
    expect(setDir.json.result).toContain('outside the download roots');
    const free = await rpcCall(
      server.port,
      { method: 'free-space', arguments: { path: '/' } },
      AUTH,
    );
    expect(free.json.result).toContain('outside the download roots');
    expect(backend.calls.map((c) => c.method)).toEqual(['add']);
    await stillServes(server.port);
  });

  it('hooks are never settable over RPC', async () => {
    const { server, backend } = await start();
    const hook = await rpcCall(
      server.port,
      {
        method: 'session-set',
        arguments: {
          'script-torrent-done-enabled': true,
          'script-torrent-done-filename': '/bin/sh',
        },
      },
      AUTH,
    );
    expect(hook.json.result).toMatch(/cannot be set over RPC/);
    expect(backend.calls).toEqual([]);
  });

  it('a caller outside --rpc-allow gets 403; other paths 404; a caller on this machine is never rate-capped', async () => {
    const refused = await start({ allowedCallers: ['10.*.*.*'] });
    const notAllowed = await rawRequest(refused.server.port, { headers: AUTH });
    expect(notAllowed.status).toBe(403);
    expect(notAllowed.body).toContain('not in the RPC allow list');
    await refused.server.close();

    // A bucket of 5 that practically never refills would refuse the 6th request of a
    // caller on the network (guard test below); a local script adding many torrents goes on.
    const { server } = await start({ burst: 5, ratePerSecond: 0.0001 });
    const statuses = new Set<number>();
    statuses.add((await rawRequest(server.port, { path: '/', headers: AUTH })).status);
    for (let i = 0; i < 40; i++)
      statuses.add((await rawRequest(server.port, { headers: AUTH })).status);
    expect([...statuses]).toEqual([404, 409]);
  });

  it('a caller on the network beyond the rate cap gets 429 with Retry-After, refilled over time', () => {
    let now = 0;
    const guard = new RequestGuard(
      {
        bindAddress: '0.0.0.0',
        allowedHosts: [],
        allowedCallers: ['10.*.*.*', '127.0.0.1'],
        ratePerSecond: 2,
        burst: 3,
        maxFailedLogins: 5,
        lockoutMs: 60_000,
      },
      () => now,
    );
    const answers = () =>
      Array.from({ length: 4 }, () => guard.checkCaller('10.0.0.7')?.status ?? 200);
    expect(answers()).toEqual([200, 200, 200, 429]);
    expect(guard.checkCaller('10.0.0.7')?.headers).toEqual({ 'Retry-After': '1' });
    // Another caller has its own bucket; loopback has none.
    expect(guard.checkCaller('10.0.0.8')).toBeNull();
    expect(Array.from({ length: 20 }, () => guard.checkCaller('127.0.0.1'))).toEqual(
      Array.from({ length: 20 }, () => null),
    );
    now += 1000; // two tokens back
    expect(answers()).toEqual([200, 200, 429, 429]);
  });

  it('a local filename is read only for a caller on this machine; bad ids and arguments are refused', async () => {
    const { server, root } = await start();
    const { torrent } = await torrentWithData(root, 'local.bin');
    const added = await rpcCall(
      server.port,
      { method: 'torrent-add', arguments: { filename: torrent } },
      AUTH,
    );
    expect(added.json).toMatchObject({
      result: 'success',
      arguments: { 'torrent-added': { id: 1, name: 'local.bin' } },
    });
    const garbage = await rpcCall(
      server.port,
      {
        method: 'torrent-add',
        arguments: { metainfo: Buffer.from('not bencode').toString('base64') },
      },
      AUTH,
    );
    expect(garbage.json.result).toMatch(/^invalid or corrupt torrent file/);
    const badIds = await rpcCall(
      server.port,
      { method: 'torrent-stop', arguments: { ids: [{}] } },
      AUTH,
    );
    expect(badIds.json.result).toMatch(/^invalid id/);
    const badLimit = await rpcCall(
      server.port,
      { method: 'torrent-set', arguments: { ids: [1], downloadLimit: 'fast' } },
      AUTH,
    );
    expect(badLimit.json.result).toContain('"downloadLimit" must be a number');
    await stillServes(server.port);
  });
});
