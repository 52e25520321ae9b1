/**
 * The RPC client against shoal's server: credentials from the URL, a new
 * session id after the server restarts (a second 409 mid-session), and the
 * `ids` forms a server must accept or refuse.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RpcRefusal } from '../../../src/core/rpc/backend.ts';
import { RpcClient, parseRpcUrl } from '../../../src/core/rpc/client.ts';
import { parseIds } from '../../../src/core/rpc/ids.ts';
import { RpcServer } from '../../../src/core/rpc/server.ts';
import { cleanupTempDirs } from '../../helpers/files.ts';
import { type ShoalRpc, startShoalRpc } from './rpc-fixtures.ts';

cleanupTempDirs();

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(): Promise<ShoalRpc> {
  const rpc = await startShoalRpc({ credentials: { username: 'al ice', password: 'p@ss:1' } });
  servers.push(rpc.server);
  return rpc;
}

describe('RpcClient', () => {
  it('takes credentials from the URL (percent-encoded) and follows a new session id after a restart', async () => {
    const rpc = await start();
    const port = rpc.server.port;
    const client = new RpcClient(`http://al%20ice:p%40ss%3A1@127.0.0.1:${port}`);
    expect(client.url).toBe(`http://127.0.0.1:${port}/transmission/rpc`);
    expect((await client.call('session-get', { fields: ['rpc-version'] }))['rpc-version']).toBe(17);

    // Same port, new server: its session id differs, so the next call meets a 409 and retries.
    await rpc.server.close();
    const again = await RpcServer.start({
      backend: rpc.backend,
      port,
      downloadRoots: [rpc.root],
      credentials: { username: 'al ice', password: 'p@ss:1' },
    });
    servers.push(again);
    expect(again.sessionId).not.toBe(rpc.server.sessionId);
    expect(await client.call('session-stats')).toMatchObject({ torrentCount: 0 });
  });

  it('a refused request is a UsageError naming the method and the reason', async () => {
    const rpc = await start();
    const client = new RpcClient(`127.0.0.1:${rpc.server.port}`, { auth: 'al ice:p@ss:1' });
    await expect(client.call('torrent-explode')).rejects.toMatchObject({
      exitCode: 2,
      message: 'torrent-explode failed: method name not recognized',
    });
  });

  it('parses HOST:PORT and refuses other schemes', () => {
    expect(parseRpcUrl('nas:9091').toString()).toBe('http://nas:9091/transmission/rpc');
    expect(() => parseRpcUrl('ftp://nas')).toThrow(/only http and https/);
  });
});

describe('ids', () => {
  it('accepts numbers, hashes in either case, lone strings, recently-active; refuses the rest', () => {
    const hash = 'AB'.repeat(20);
    expect(parseIds(undefined)).toEqual({ kind: 'all' });
    expect(parseIds('recently-active')).toEqual({ kind: 'recently-active' });
    expect(parseIds(hash)).toEqual({
      kind: 'list',
      numbers: new Set(),
      hashes: new Set([hash.toLowerCase()]),
    });
    expect(parseIds([3, hash])).toMatchObject({ numbers: new Set([3]) });
    for (const bad of [[1.5], ['abc'], [{}], true, [null]]) {
      expect(() => parseIds(bad), JSON.stringify(bad)).toThrow(RpcRefusal);
    }
  });
});
