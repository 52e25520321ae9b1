/**
 * `download --port N` when N is taken: the listen starts while the source is
 * read (it is on the way to the first byte), yet the outcome is what it was
 * when the port was bound first: one line naming the port, exit 4 (network),
 * no stack trace, nothing written in the output folder; and a source that
 * fails too does not hide the port.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoal, show, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { createTorrent } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

let work: string;
let torrent: string;
let taken: net.Server;
let port: number;

beforeAll(async () => {
  work = tempDir('shoal-port-in-use-');
  await writeFile(path.join(work, 'payload.bin'), Buffer.alloc(100_000, 7));
  ({ torrent } = await createTorrent(
    path.join(work, 'payload.bin'),
    path.join(work, 'payload.torrent'),
  ));
  // Dual-stack like shoal's own listener, so the port is taken for IPv4 and IPv6 alike.
  taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '::', resolve));
  port = (taken.address() as net.AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => taken?.close(resolve));
});

describe('download --port that another program holds', () => {
  it.each([
    ['a good .torrent', () => torrent],
    ['a .torrent that does not exist', () => path.join(work, 'missing.torrent')],
  ])('%s: one line naming the port, exit 4, nothing written', async (_name, source) => {
    const out = path.join(work, `out-${Math.random().toString(36).slice(2)}`);
    const result = await runShoal(['download', source(), '-o', out, '--port', String(port)]);
    expect(result.code, show(result)).toBe(4);
    expect(result.stderr.trim().split('\n'), show(result)).toEqual([
      `shoal: error: port ${port} is already in use (try --port 0)`,
    ]);
    expect(existsSync(out)).toBe(false);
  });
});
