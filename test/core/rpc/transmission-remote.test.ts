/**
 * shoal's RPC server (on the in-memory test backend) driven by the real
 * transmission-remote 3.00: the client a great many scripts use. It must
 * get through the 409 handshake and Basic auth on its own, and its output
 * (which parses our answers) must show what the backend holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cleanupTempDirs } from '../../helpers/files.ts';
import {
  requireTransmissionRpcTools,
  transmissionRemote,
} from '../../helpers/transmission-daemon.ts';
import { type ShoalRpc, startShoalRpc, torrentWithData } from './rpc-fixtures.ts';

requireTransmissionRpcTools();
cleanupTempDirs();

const AUTH = ['-n', 'alice:s3cret'];
let rpc: ShoalRpc | undefined;

afterEach(async () => {
  await rpc?.server.close();
  rpc = undefined;
});

async function start(): Promise<ShoalRpc> {
  rpc = await startShoalRpc({ credentials: { username: 'alice', password: 's3cret' } });
  return rpc;
}

/** The rows of `transmission-remote -l` below its header, split on runs of spaces. */
function listRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .slice(1)
    .filter((line) => /^\s*\d+\*?\s/.test(line))
    .map((line) => line.trim().split(/\s{2,}/));
}

describe('transmission-remote against shoal RPC', () => {
  it('adds a .torrent (base64 metainfo), lists it, shows its details, stops, starts and removes it', async () => {
    const { server, backend, root } = await start();
    const { torrent } = await torrentWithData(root);
    const port = server.port;

    const added = await transmissionRemote(port, [...AUTH, '-a', torrent]);
    expect(added.stdout + added.stderr, JSON.stringify(added)).toContain('responded: "success"');
    const addCall = backend.calls.find((c) => c.method === 'add');
    expect(addCall?.detail).toMatchObject({ downloadDir: root, paused: false });
    expect(Object.keys((addCall?.detail as { source: object }).source)).toEqual(['metainfo']);
    const [hash] = [...backend.torrents.values()].map((t) => t.hashString);

    const listed = await transmissionRemote(port, [...AUTH, '-l']);
    const rows = listRows(listed.stdout);
    expect(rows, listed.stdout).toHaveLength(1);
    expect(rows[0][0]).toBe('1');
    expect(rows[0].at(-1)).toBe('payload.bin');
    expect(rows[0][1]).toBe('0%');

    const info = await transmissionRemote(port, [...AUTH, '-t', '1', '-i']);
    expect(info.stdout).toContain('Name: payload.bin');
    expect(info.stdout).toContain(`Hash: ${hash}`);
    expect(info.stdout).toContain(`Location: ${root}`);
    expect(info.stdout).toMatch(/Total size: 300\.0 kB/);

    // -t HASH sends the hash as a lone string, not in a list.
    const stopped = await transmissionRemote(port, [...AUTH, '-t', hash, '-S']);
    expect(stopped.stdout).toContain('success');
    expect(backend.calls.find((c) => c.method === 'stop')?.ids).toEqual([1]);
    expect(listRows((await transmissionRemote(port, [...AUTH, '-l'])).stdout)[0]).toContain(
      'Stopped',
    );

    await transmissionRemote(port, [...AUTH, '-t', '1', '-s']);
    expect(backend.calls.find((c) => c.method === 'start')?.ids).toEqual([1]);
    expect(listRows((await transmissionRemote(port, [...AUTH, '-l'])).stdout)[0]).not.toContain(
      'Stopped',
    );

    await transmissionRemote(port, [...AUTH, '-t', '1', '-v']);
    expect(backend.calls.find((c) => c.method === 'verify')?.ids).toEqual([1]);

    const removed = await transmissionRemote(port, [...AUTH, '-t', '1', '-r']);
    expect(removed.stdout).toContain('success');
    expect(backend.calls.find((c) => c.method === 'remove')).toMatchObject({
      ids: [1],
      detail: { deleteData: false },
    });
    expect(listRows((await transmissionRemote(port, [...AUTH, '-l'])).stdout)).toEqual([]);
  });

  it('refuses missing and wrong credentials, then still serves the right ones', async () => {
    const { server, backend } = await start();
    const none = await transmissionRemote(server.port, ['-l']);
    expect(none.code).not.toBe(0);
    expect(none.stderr + none.stdout).toMatch(/401|credentials/i);

    const wrong = await transmissionRemote(server.port, ['-n', 'alice:guess', '-l']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr + wrong.stdout).toMatch(/wrong user name or password|401/);

    const right = await transmissionRemote(server.port, [...AUTH, '-l']);
    expect(right.code, right.stderr).toBe(0);
    expect(right.stdout).toMatch(/^\s*ID\s+Done/);
    expect(backend.calls).toEqual([]);
  });

  it('shows the session (-si) and its statistics (-st) from session-get and session-stats', async () => {
    const { server, root } = await start();
    const session = await transmissionRemote(server.port, [...AUTH, '-si']);
    expect(session.stdout).toContain('RPC version: 17');
    expect(session.stdout).toContain(`Download directory: ${root}`);
    const stats = await transmissionRemote(server.port, [...AUTH, '-st']);
    expect(stats.stdout).toMatch(/Started 1 times/);
  });
});
