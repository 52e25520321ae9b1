/**
 * The address fields of the BEP 10 extended handshake against
 * python3-libtorrent (issue #16), over 127.0.0.1 and over ::1: shoal's codec
 * and PeerExtensions dial a libtorrent seeder, send our handshake with
 * `yourip` (libtorrent's address as we see it), and read libtorrent's.
 * - libtorrent sends `yourip`: our address as it sees it, 4 bytes over IPv4,
 *   16 over IPv6, and we decode it to the address we dialled from;
 * - libtorrent reads ours: its peer log shows our `yourip` with its own
 *   address;
 * - libtorrent 2.0 sends no `ipv6` on loopback (no global IPv6 address), and
 *   neither do we: nothing is announced that nobody could reach.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { PeerExtensions } from '../../src/core/session/peer-extensions.ts';
import { PeerConnection } from '../../src/core/peer/peer-connection.ts';
import { tcpTransport } from '../../src/core/transport/tcp.ts';
import {
  decodeExtendedHandshake,
  EXTENDED_HANDSHAKE_ID,
  formatIp,
  type ExtendedHandshake,
} from '../../src/core/wire/extension.ts';
import { makeReserved } from '../../src/core/wire/handshake.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { startLt } from './libtorrent-swarm.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { requirePeers } from '../helpers/peers.ts';
import { createTorrent } from '../helpers/swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });
cleanupTempDirs();
requirePeers('libtorrent');

describe('extended handshake addresses with python3-libtorrent', () => {
  let torrent: string;
  let seedDir: string;
  let infoHash: Buffer;

  beforeAll(async () => {
    const work = tempDir('shoal-lt-ext-');
    seedDir = path.join(work, 'seed');
    await mkdir(seedDir);
    const data = path.join(seedDir, 'data.bin');
    await writeFile(data, randomBytes(256 * 1024));
    const made = await createTorrent(data, path.join(work, 'data.torrent'), [
      '--piece-length',
      '16KiB',
    ]);
    torrent = made.torrent;
    infoHash = Buffer.from(made.infoHash!, 'hex');
  });

  for (const [family, host, ourHost] of [
    ['IPv4', '127.0.0.1', '127.0.0.1'],
    ['IPv6', '::1', '::1'],
  ] as const) {
    it(`yourip both ways over ${family}, and no ipv6 on loopback`, async () => {
      const { proc: lt, port } = await startLt([
        'seed',
        '--torrent',
        torrent,
        '--save',
        seedDir,
        '--listen-host',
        host,
        '--peer-log',
      ]);
      await lt.waitFor(/SEEDING/, 20_000, 'stdout');
      const address = { host, port };
      const extensions = new PeerExtensions({
        infoBytes: new Uint8Array(64),
        isPrivate: false,
        clientName: 'shoal-test',
        maxRequests: 250,
        port: () => 6881,
        addPeers: () => {},
      });
      const conn = await PeerConnection.dial(tcpTransport, address, {
        local: {
          infoHash,
          peerId: randomBytes(20),
          reserved: makeReserved({ extensionProtocol: true, fastExtension: true }),
        },
        acceptRemote: () => null,
      });
      const theirs = await new Promise<ExtendedHandshake>((resolve, reject) => {
        conn.once('close', (reason) => reject(new Error(`closed: ${reason}\n${lt.describe()}`)));
        conn.on('message', (message) => {
          if (message.type === 'extended' && message.id === EXTENDED_HANDSHAKE_ID)
            resolve(decodeExtendedHandshake(message.payload));
        });
        conn.once('ready', () =>
          conn.send({
            type: 'extended',
            id: EXTENDED_HANDSHAKE_ID,
            payload: extensions.handshake(address),
          }),
        );
      });
      // libtorrent's yourip: the address we dialled from, as it sees it.
      expect(theirs.yourIp?.length, lt.describe()).toBe(family === 'IPv4' ? 4 : 16);
      expect(formatIp(theirs.yourIp!)).toBe(ourHost);
      expect(theirs.ipv6).toBeUndefined();
      // Ours, as libtorrent logged it (hex bytes): its own address.
      const hex = Buffer.from(
        family === 'IPv4' ? [127, 0, 0, 1] : [...new Array(15).fill(0), 1],
      ).toString('hex');
      const logged = await lt.waitFor(/<== EXTENDED_HANDSHAKE \[ (.*) \]/, 20_000, 'stderr');
      expect(logged[1]).toContain(`'yourip': '${hex}'`);
      expect(logged[1]).not.toContain(`'ipv6'`);
      conn.close('test over');
    });
  }
});
