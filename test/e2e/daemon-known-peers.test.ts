/**
 * A torrent's next run in the daemon starts from the peers its last run knew,
 * also after the daemon restarts.
 * A peer that only ever dialled in (telling its listen port in the extension
 * handshake) is dialled by the daemon after a stop and start, though the
 * torrent's tracker is gone and the DHT is off: without the carried list the
 * new run knows no address at all, and a seed that thinks the torrent is
 * complete never dials in again (how a damaged, verified torrent stayed
 * unhealed in the transmission-remote interop test).
 *
 * The peer is played by the test: a real TCP connection to the real daemon
 * that does the BitTorrent and extension handshakes, and a plain TCP listener
 * at the port it announced that counts who connects.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { parseTorrent } from '../../src/core/metainfo/index.ts';
import { PeerConnection } from '../../src/core/peer/peer-connection.ts';
import { tcpTransport } from '../../src/core/transport/tcp.ts';
import { encodeExtendedHandshake, EXTENDED_HANDSHAKE_ID } from '../../src/core/wire/extension.ts';
import { makeReserved } from '../../src/core/wire/handshake.ts';
import { trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { until } from '../helpers/swarm.ts';
import {
  daemonFolders,
  dataWithTorrent,
  startDaemon,
  waitForTorrents,
} from '../core/daemon/daemon-fixtures.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const STOPPED = 0;
const DOWNLOADING = 4;

describe('shoal daemon, stop and start', () => {
  it('dials a peer that had only dialled in, at the listen port it gave', async () => {
    const dir = tempDir('shoal-daemon-known-');
    const { torrent } = await dataWithTorrent(dir, 'payload.bin', 256 * 1024);
    const bytes = await readFile(torrent);
    const infoHash = parseTorrent(bytes).infoHash!; // mktorrent writes v1
    const folders = daemonFolders();
    let daemon = await startDaemon(folders, ['--encryption', 'off']);
    const local = () => ({
      infoHash,
      peerId: randomBytes(20),
      reserved: makeReserved({ extensionProtocol: true }),
    });

    // The peer's listening side: counts connections and answers the handshake.
    let accepted = 0;
    const sockets = new Set<net.Socket>();
    const listener = net.createServer((socket) => {
      accepted++;
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => sockets.delete(socket));
      PeerConnection.accept(
        socket,
        { host: '127.0.0.1', port: socket.remotePort ?? 0 },
        { local: local(), acceptRemote: () => null },
      );
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const listenPort = (listener.address() as net.AddressInfo).port;

    try {
      await daemon.rpc.call('torrent-add', { metainfo: bytes.toString('base64') });
      await waitForTorrents(daemon.rpc, ([t]) => t?.status === DOWNLOADING, 'downloading');

      // The peer dials in and tells where it listens; the connection stays up until the stop.
      const conn = await PeerConnection.dial(
        tcpTransport,
        { host: '127.0.0.1', port: daemon.peerPort },
        { local: local(), acceptRemote: () => null },
      );
      await new Promise((resolve) => conn.once('ready', resolve));
      conn.send({
        type: 'extended',
        id: EXTENDED_HANDSHAKE_ID,
        payload: encodeExtendedHandshake({ m: {}, p: listenPort }),
      });
      // Connected: its listen address is never dialled meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(accepted).toBe(0);

      await daemon.rpc.call('torrent-stop', { ids: [1] });
      await waitForTorrents(daemon.rpc, ([t]) => t?.status === STOPPED, 'stopped');
      await until(
        () => conn.closed,
        10_000,
        () => 'the stop closes the connection',
      );
      const beforeStart = accepted;

      await daemon.rpc.call('torrent-start', { ids: [1] });
      await until(
        () => accepted > beforeStart,
        30_000,
        () => 'the daemon dials the known peer',
      );

      // And after a restart of the daemon: the list is kept in its state.
      daemon.proc.kill('SIGTERM');
      expect((await daemon.proc.wait(30_000)).code).toBe(0);
      const beforeRestart = accepted;
      daemon = await startDaemon(folders, ['--encryption', 'off']);
      await until(
        () => accepted > beforeRestart,
        30_000,
        () => 'the restarted daemon dials it',
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      listener.close();
      daemon.proc.kill('SIGTERM');
      await daemon.proc.wait(30_000);
    }
  });
});
