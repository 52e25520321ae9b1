/**
 * What a running shoal says in its extended handshake (BEP 10) to a peer
 * that dials it: `yourip` is that peer's address as shoal sees it, so a peer
 * behind NAT learns its public address; its listening port is `p`.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
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
import { cleanupTempDirs, makeTree, tempDir } from '../helpers/files.ts';
import { createTorrent, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
cleanupTempDirs();

describe('the extended handshake of a running shoal', () => {
  it('tells a peer its own address (yourip) and our listening port', async () => {
    const work = tempDir('shoal-ext-handshake-');
    await makeTree(path.join(work, 'src', 'payload'), [{ path: 'a.bin', size: 100_000 }]);
    const { torrent, infoHash } = (await createTorrent(
      path.join(work, 'src', 'payload'),
      path.join(work, 'p.torrent'),
    )) as { torrent: string; infoHash: string };
    const seeder = await startShoalSeeder(torrent, path.join(work, 'src'), ['--encryption', 'off']);
    const conn = await PeerConnection.dial(
      tcpTransport,
      { host: '127.0.0.1', port: seeder.port },
      {
        local: {
          infoHash: Buffer.from(infoHash, 'hex'),
          peerId: randomBytes(20),
          reserved: makeReserved({ extensionProtocol: true, fastExtension: true }),
        },
        acceptRemote: () => null,
      },
    );
    try {
      const theirs = await new Promise<ExtendedHandshake>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no extended handshake')), 20_000);
        conn.once('close', (reason) => reject(new Error(`closed: ${reason}`)));
        conn.on('message', (message) => {
          if (message.type !== 'extended' || message.id !== EXTENDED_HANDSHAKE_ID) return;
          clearTimeout(timer);
          resolve(decodeExtendedHandshake(message.payload));
        });
      });
      expect(theirs.yourIp && formatIp(theirs.yourIp)).toBe('127.0.0.1');
      expect(theirs.p).toBe(seeder.port);
    } finally {
      conn.close('test over');
    }
  });
});
