/**
 * Hostile RPC callers against the real daemon (not the in-memory backend):
 * no or wrong credentials, a foreign Host header, an oversized body, a
 * download-dir outside the roots, an unknown method and malformed JSON are
 * each refused, and the daemon goes on serving a well-behaved caller.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs } from '../helpers/files.ts';
import { basic, rawRequest, rpcCall } from '../core/rpc/rpc-fixtures.ts';
import { startDaemon } from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

describe('hostile RPC against shoal daemon', () => {
  it('refuses each bad request and keeps serving', async () => {
    const daemon = await startDaemon(undefined, [], { auth: 'alice:s3cret' });
    const port = daemon.rpcPort;
    const auth = { Authorization: basic('alice', 's3cret') };
    const healthy = async () => {
      const answer = await rpcCall(port, { method: 'session-get' }, auth);
      expect(answer.json.result).toBe('success');
    };

    expect((await rawRequest(port, { body: '{}' })).status).toBe(401);
    await healthy();
    expect(
      (await rawRequest(port, { body: '{}', headers: { Authorization: basic('alice', 'x') } }))
        .status,
    ).toBe(401);
    await healthy();
    const foreign = await rawRequest(port, {
      body: '{}',
      headers: { ...auth, Host: 'evil.example:9091' },
    });
    expect(foreign.status).toBe(421);
    await healthy();

    const sessionId = String(
      (await rawRequest(port, { body: '{}', headers: auth })).headers['x-transmission-session-id'],
    );
    const withId = { ...auth, 'X-Transmission-Session-Id': sessionId };
    const huge = await rawRequest(port, {
      headers: withId,
      body: Buffer.alloc(17 * 1024 * 1024, 0x20),
    }).catch((error: unknown) => ({ status: -1, body: String(error) }));
    expect([413, -1]).toContain(huge.status);
    await healthy();

    const outside = await rpcCall(
      port,
      {
        method: 'torrent-add',
        arguments: { filename: 'magnet:?xt=urn:btih:' + 'a'.repeat(40), 'download-dir': '/etc' },
      },
      auth,
    );
    expect(String(outside.json.result)).toMatch(/outside the download roots/);
    await healthy();

    // A download-dir inside the roots that is a file: refused naming it, the file untouched.
    const file = path.join(daemon.downloadDir, 'a-file');
    writeFileSync(file, 'not a directory');
    for (const dir of [file, path.join(file, 'sub')]) {
      const onFile = await rpcCall(
        port,
        {
          method: 'torrent-add',
          arguments: { filename: 'magnet:?xt=urn:btih:' + 'b'.repeat(40), 'download-dir': dir },
        },
        auth,
      );
      expect(String(onFile.json.result)).toMatch(/a-file is not a directory$/);
      await healthy();
    }
    expect(readFileSync(file, 'utf8')).toBe('not a directory');

    const unknown = await rpcCall(port, { method: 'format-disk' }, auth);
    expect(String(unknown.json.result)).toMatch(/method/i);
    await healthy();

    const malformed = await rawRequest(port, {
      headers: withId,
      body: '{"method": "session-get",',
    });
    expect(malformed.status).toBe(400);
    await healthy();

    expect(daemon.proc.running).toBe(true);
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code).toBe(0);
  });
});
