/**
 * Shared set-up for the daemon tests: a `shoal daemon` process on free ports
 * with its own state and download folders, a data file with its .torrent
 * (mktorrent), a libtorrent seeder that dials the daemon, and RPC calls.
 * Every process is tracked by PID (test/helpers/cli.ts) and every wait bounded.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RpcClient } from '../../../src/core/rpc/client.ts';
import { spawnShoal, spawnTracked, type Proc } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/files.ts';
import { SYSTEM_PYTHON } from '../../helpers/peers.ts';

export const MKTORRENT = '/usr/bin/mktorrent';
const LIBTORRENT_PEER = path.resolve(
  import.meta.dirname,
  '..',
  '..',
  'helpers',
  'libtorrent_peer.py',
);

export interface DaemonFolders {
  stateDir: string;
  downloadDir: string;
}

export interface RunningDaemon extends DaemonFolders {
  proc: Proc;
  rpcPort: number;
  peerPort: number;
  url: string;
  rpc: RpcClient;
}

export function daemonFolders(): DaemonFolders {
  return { stateDir: tempDir('shoal-daemon-state-'), downloadDir: tempDir('shoal-daemon-dl-') };
}

/** Starts `shoal daemon` and resolves once it serves RPC. */
export async function startDaemon(
  folders: DaemonFolders = daemonFolders(),
  extra: string[] = [],
  options: {
    auth?: string;
    peerPort?: number;
    /** Turns the DHT on, joined through this node only (its routing table cached in a temp folder). */
    dhtBootstrap?: string;
  } = {},
): Promise<RunningDaemon> {
  // Port 0 and the ports the daemon names: a port found free first could be taken by another
  // test's process before the daemon binds it (EADDRINUSE in a full CI run).
  const proc = spawnShoal(
    [
      'daemon',
      '--state-dir',
      folders.stateDir,
      '--download-dir',
      folders.downloadDir,
      '--rpc-port',
      '0',
      '--port',
      String(options.peerPort ?? 0),
      ...(options.dhtBootstrap ? ['--dht-bootstrap', options.dhtBootstrap] : ['--no-dht']),
      '--threads',
      '2',
      ...(options.auth ? ['--rpc-auth', options.auth] : []),
      ...extra,
    ],
    {
      timeoutMs: 600_000,
      env: options.dhtBootstrap ? { XDG_CACHE_HOME: tempDir('shoal-daemon-cache-') } : undefined,
    },
  );
  const ports = await proc.waitFor(/RPC on http:\/\/[^ ]*:(\d+)\/\S*, peers on port (\d+)/, 30_000);
  const rpcPort = Number(ports[1]);
  const peerPort = Number(ports[2]);
  const url = `http://127.0.0.1:${rpcPort}/transmission/rpc`;
  return {
    ...folders,
    proc,
    rpcPort,
    peerPort,
    url,
    rpc: new RpcClient(url, { auth: options.auth }),
  };
}

/** `dir/name` of `size` random bytes and its .torrent (piece length 2^pieceExp). */
export async function dataWithTorrent(
  dir: string,
  name: string,
  size: number,
  options: { pieceExp?: number; announce?: string } = {},
): Promise<{ data: string; torrent: string }> {
  await mkdir(dir, { recursive: true });
  const data = path.join(dir, name);
  await writeFile(data, randomBytes(size));
  return { data, torrent: makeTorrent(data, options) };
}

/** mktorrent's .torrent of `data` (the same info-hash whatever the announce URL). */
export function makeTorrent(
  data: string,
  options: { pieceExp?: number; announce?: string } = {},
): string {
  const torrent = path.join(tempDir('shoal-daemon-torrent-'), `${path.basename(data)}.torrent`);
  execFileSync(
    MKTORRENT,
    [
      '-a',
      options.announce ?? 'http://127.0.0.1:9/announce',
      '-l',
      String(options.pieceExp ?? 15),
      '-o',
      torrent,
      data,
    ],
    { stdio: 'pipe' },
  );
  return torrent;
}

/**
 * A libtorrent seeder of `torrent` (data in `save`) that dials `peers`;
 * `uploadLimit` bytes/s keeps a download slow enough to interrupt.
 * Resolves once it seeds; `port` is where it listens.
 */
export async function startSeeder(options: {
  torrent: string;
  save: string;
  peers: string[];
  uploadLimit?: number;
  timeoutS?: number;
}): Promise<{ proc: Proc; port: number }> {
  const timeoutS = options.timeoutS ?? 240;
  const args = [
    LIBTORRENT_PEER,
    'seed',
    '--torrent',
    options.torrent,
    '--save',
    options.save,
    // Port 0 and the port libtorrent names (its UDP socket takes the TCP one's): a port found
    // free first could be taken by another test's process before libtorrent binds it.
    '--port',
    '0',
    '--timeout',
    String(timeoutS),
    ...options.peers.flatMap((peer) => ['--peer', peer]),
    ...(options.uploadLimit ? ['--upload-limit', String(options.uploadLimit)] : []),
  ];
  const proc = spawnTracked('libtorrent seed', SYSTEM_PYTHON, args, {
    timeoutMs: (timeoutS + 10) * 1000,
  });
  const listening = await proc.waitFor(/LISTENING (\d+)/, 30_000, 'stdout');
  await proc.waitFor(/SEEDING/, 60_000, 'stdout');
  return { proc, port: Number(listening[1]) };
}

export interface TorrentView {
  id: number;
  hashString: string;
  name: string;
  status: number;
  percentDone: number;
  haveValid: number;
  totalSize: number;
  leftUntilDone: number;
  downloadedEver: number;
  pieces: string;
  pieceCount: number;
  error: number;
  errorString: string;
  downloadDir: string;
}

const FIELDS = [
  'id',
  'hashString',
  'name',
  'status',
  'percentDone',
  'haveValid',
  'totalSize',
  'leftUntilDone',
  'downloadedEver',
  'pieces',
  'pieceCount',
  'error',
  'errorString',
  'downloadDir',
];

export async function torrents(rpc: RpcClient): Promise<TorrentView[]> {
  const answer = (await rpc.call('torrent-get', { fields: FIELDS })) as { torrents: TorrentView[] };
  return answer.torrents;
}

/** Polls torrent-get until `done` holds for the torrents (bounded; the last view in the error). */
export async function waitForTorrents(
  rpc: RpcClient,
  done: (list: TorrentView[]) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<TorrentView[]> {
  const deadline = Date.now() + timeoutMs;
  let list: TorrentView[] = [];
  while (Date.now() < deadline) {
    list = await torrents(rpc);
    if (done(list)) return list;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(
    `${what}: not within ${timeoutMs} ms; last state ${JSON.stringify(list.map(({ pieces, ...rest }) => (void pieces, rest)))}`,
  );
}

/** Bytes of the verified pieces in a torrent-get answer (the last piece may be short). */
export function verifiedBytes(view: TorrentView, pieceLength: number): number {
  const bits = Buffer.from(view.pieces, 'base64');
  let bytes = 0;
  for (let i = 0; i < view.pieceCount; i++) {
    if (bits[i >> 3] & (0x80 >> (i & 7))) {
      bytes += Math.min(pieceLength, view.totalSize - i * pieceLength);
    }
  }
  return bytes;
}

/** Set bits in a base64 wire bitfield. */
export function countPieces(base64: string): number {
  let count = 0;
  for (const byte of Buffer.from(base64, 'base64')) {
    for (let b = byte; b; b &= b - 1) count++;
  }
  return count;
}
