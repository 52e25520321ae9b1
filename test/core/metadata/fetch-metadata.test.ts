// fetchMetadata against real TCP peers on 127.0.0.1: in-test seeders built from PeerConnection
// and MetadataServer (honest and lying), and a python3-libtorrent peer (interop).
import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeBencode } from '../../../src/core/bencode/index.ts';
import { NetworkError } from '../../../src/core/errors.ts';
import { fetchMetadata, type MetadataEvent } from '../../../src/core/metadata/fetch-metadata.ts';
import { MetadataServer } from '../../../src/core/metadata/metadata-server.ts';
import { metainfoFromInfo } from '../../../src/core/metadata/metainfo-from-info.ts';
import { METADATA_PIECE_SIZE, UT_METADATA } from '../../../src/core/metadata/ut-metadata-codec.ts';
import { parseTorrent } from '../../../src/core/metainfo/index.ts';
import { PeerConnection } from '../../../src/core/peer/peer-connection.ts';
import { staticPeers } from '../../../src/core/discovery/discovery.ts';
import {
  decodeExtendedHandshake,
  encodeExtendedHandshake,
} from '../../../src/core/wire/extension.ts';
import { makeReserved } from '../../../src/core/wire/handshake.ts';
import { encodePex } from '../../../src/core/pex/ut-pex-codec.ts';
import { requirePeers, SYSTEM_PYTHON } from '../../helpers/peers.ts';
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const sha1 = (b: Uint8Array) => createHash('sha1').update(b).digest();

/** A bencoded v1 info dictionary of about `pieces * 20` bytes (no data needed to serve metadata). */
function makeInfo(pieces: number): Uint8Array {
  return encodeBencode(
    new Map<string, unknown>([
      ['length', pieces * 16384],
      ['name', 'data.bin'],
      ['piece length', 16384],
      ['pieces', randomBytes(pieces * 20)],
    ]),
  );
}

interface Seeder {
  port: number;
  requests: number;
}

/**
 * A peer that answers ut_metadata requests from `served` (the real bytes or a forgery of
 * the same size), optionally telling us about other peers through ut_pex.
 */
async function seeder(
  infoHash: Uint8Array,
  served: Uint8Array,
  options: { pex?: { host: string; port: number }[]; offerMetadata?: boolean } = {},
): Promise<Seeder> {
  const server = new MetadataServer(served);
  const state: Seeder = { port: 0, requests: 0 };
  const tcp = net.createServer((socket) => {
    const address = { host: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 };
    const connection = PeerConnection.accept(socket, address, {
      local: {
        infoHash,
        peerId: randomBytes(20),
        reserved: makeReserved({ extensionProtocol: true }),
      },
      acceptRemote: () => null,
    });
    let theirMetadataId = 0;
    connection.on('ready', () => {
      connection.send({
        type: 'extended',
        id: 0,
        payload: encodeExtendedHandshake({
          m: { [UT_METADATA]: 3, ut_pex: 4 },
          ...(options.offerMetadata === false ? {} : { metadataSize: served.length }),
        }),
      });
    });
    connection.on('message', (message) => {
      if (message.type !== 'extended') return;
      if (message.id === 0) {
        const handshake = decodeExtendedHandshake(message.payload);
        theirMetadataId = handshake.m.get(UT_METADATA) ?? 0;
        const pexId = handshake.m.get('ut_pex') ?? 0;
        if (options.pex && pexId) {
          connection.send({
            type: 'extended',
            id: pexId,
            payload: encodePex({
              added: options.pex.map((p) => ({ ...p, flags: 0 })),
              dropped: [],
            }),
          });
        }
      } else if (message.id === 3) {
        state.requests++;
        const reply = server.handle(connection.key, message.payload);
        if (reply && theirMetadataId)
          connection.send({ type: 'extended', id: theirMetadataId, payload: reply });
      }
    });
    cleanups.push(() => connection.close('test over'));
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  state.port = (tcp.address() as net.AddressInfo).port;
  cleanups.push(() => tcp.close());
  return state;
}

function collect(): { events: MetadataEvent[]; onEvent: (e: MetadataEvent) => void } {
  const events: MetadataEvent[] = [];
  return { events, onEvent: (e) => events.push(e) };
}

describe('fetchMetadata', () => {
  it('fetches multi-piece metadata from two honest peers and spreads the requests', async () => {
    const info = makeInfo(2000); // 40 KB: 3 metadata pieces
    const infoHash = sha1(info);
    const a = await seeder(infoHash, info);
    const b = await seeder(infoHash, info);
    const { events, onEvent } = collect();
    const result = await fetchMetadata({
      infoHash,
      peerId: randomBytes(20),
      discoveries: [
        staticPeers([
          { host: '127.0.0.1', port: a.port },
          { host: '127.0.0.1', port: b.port },
        ]),
      ],
      timeoutMs: 20_000,
      maxRequestsPerPeer: 2,
      onEvent,
    });
    expect(sha1(result.infoBytes).equals(infoHash)).toBe(true);
    expect(result.peers).toHaveLength(2);
    expect(a.requests + b.requests).toBeGreaterThanOrEqual(3);
    expect(events.some((e) => e.type === 'peers-found' && e.total === 2)).toBe(true);
    expect(events.filter((e) => e.type === 'piece').at(-1)).toMatchObject({
      received: 3,
      pieceCount: 3,
    });
    expect(Buffer.from(metainfoFromInfo(result.infoBytes).infoHash!).equals(infoHash)).toBe(true);
  });

  it('drops a peer that sends metadata not matching the info-hash; an honest peer completes', async () => {
    const info = makeInfo(4000); // 80 KB: 5 pieces, so both peers contribute to the first round
    const infoHash = sha1(info);
    const forged = Buffer.from(info);
    forged[METADATA_PIECE_SIZE * 2 + 10] ^= 0xff;
    forged[METADATA_PIECE_SIZE * 3 + 10] ^= 0xff;
    const liar = await seeder(infoHash, forged);
    const honest = await seeder(infoHash, info);
    const { events, onEvent } = collect();
    const result = await fetchMetadata({
      infoHash,
      peerId: randomBytes(20),
      discoveries: [
        staticPeers([
          { host: '127.0.0.1', port: liar.port },
          { host: '127.0.0.1', port: honest.port },
        ]),
      ],
      timeoutMs: 20_000,
      maxRequestsPerPeer: 1,
      onEvent,
    });
    expect(sha1(result.infoBytes).equals(infoHash)).toBe(true);
    const liarKey = `127.0.0.1:${liar.port}`;
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'peer-dropped',
        peer: liarKey,
        reason: expect.stringMatching(/does not match/),
      }),
    );
    expect(result.peers).toEqual([{ host: '127.0.0.1', port: honest.port }]);
    expect(result.otherPeers).toEqual([]);
  });

  it('learns peers through ut_pex from a peer without metadata', async () => {
    const info = makeInfo(100);
    const infoHash = sha1(info);
    const honest = await seeder(infoHash, info);
    const gossip = await seeder(infoHash, info, {
      offerMetadata: false,
      pex: [{ host: '127.0.0.1', port: honest.port }],
    });
    const { events, onEvent } = collect();
    const result = await fetchMetadata({
      infoHash,
      peerId: randomBytes(20),
      discoveries: [staticPeers([{ host: '127.0.0.1', port: gossip.port }])],
      timeoutMs: 20_000,
      onEvent,
    });
    expect(sha1(result.infoBytes).equals(infoHash)).toBe(true);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'peers-found', source: `pex from 127.0.0.1:${gossip.port}` }),
    );
  });

  it('times out with exit code 4: no peers, and peers that only lie', async () => {
    const info = makeInfo(10);
    const infoHash = sha1(info);
    const none = fetchMetadata({
      infoHash,
      peerId: randomBytes(20),
      discoveries: [],
      timeoutMs: 300,
    });
    await expect(none).rejects.toThrow(/no peers found/);
    await expect(none).rejects.toBeInstanceOf(NetworkError);
    await none.catch((error: NetworkError) => expect(error.exitCode).toBe(4));

    const forged = Buffer.from(info);
    forged[0] ^= 1;
    const liar = await seeder(infoHash, forged);
    const { events, onEvent } = collect();
    const lies = fetchMetadata({
      infoHash,
      peerId: randomBytes(20),
      discoveries: [staticPeers([{ host: '127.0.0.1', port: liar.port }])],
      timeoutMs: 1500,
      onEvent,
    });
    await expect(lies).rejects.toThrow(/metadata not received from 1 peer/);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'mismatch', culprits: [`127.0.0.1:${liar.port}`] }),
    );
  });

  it('stops at once when aborted', async () => {
    const controller = new AbortController();
    const pending = fetchMetadata({
      infoHash: randomBytes(20),
      peerId: randomBytes(20),
      discoveries: [],
      timeoutMs: 60_000,
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toThrow(/interrupted/);
  });
});

// Loopback only: no DHT, LSD, UPnP or NAT-PMP, and the torrents name no trackers.
// Ready once it accepts peers: libtorrent refuses them while it checks files.
const LIBTORRENT_PEER = `
import sys, time, libtorrent as lt
s = lt.session({"listen_interfaces": "127.0.0.1:0", "enable_dht": False, "enable_lsd": False,
                "enable_upnp": False, "enable_natpmp": False})
p = lt.add_torrent_params()
p.ti = lt.torrent_info(sys.argv[1])
p.save_path = sys.argv[2]
h = s.add_torrent(p)
deadline = time.time() + 60
while time.time() < deadline:
    s.pop_alerts()
    st = h.status()
    if s.listen_port() and st.state not in (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data):
        print("READY %d" % s.listen_port(), flush=True)
        break
    time.sleep(0.05)
sys.stdin.read()
`;

/** Starts a libtorrent peer for `torrent` with no data; resolves with its port. */
async function startLibtorrent(torrent: string, save: string): Promise<number> {
  const child = spawn(SYSTEM_PYTHON, ['-c', LIBTORRENT_PEER, torrent, save], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  return new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`libtorrent did not start: ${out}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /READY (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`libtorrent exited with ${code}: ${out}`));
    });
  });
}

describe('fetchMetadata from python3-libtorrent (interop)', () => {
  requirePeers('libtorrent');
  for (const [label, make] of [
    [
      'v1 with several metadata pieces',
      () => ({ info: makeInfo(3000), file: null as string | null }),
    ],
    [
      'hybrid fixture (v1 and v2 hashes checked)',
      () => ({ info: null, file: 'hybrid-multi.torrent' }),
    ],
  ] as const) {
    it(label, async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'shoal-metadata-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const spec = make();
      let torrentPath: string;
      let torrentBytes: Uint8Array;
      if (spec.file) {
        torrentPath = path.join(import.meta.dirname, '..', '..', 'fixtures', 'metainfo', spec.file);
        torrentBytes = readFileSync(torrentPath);
      } else {
        torrentBytes = Buffer.concat([Buffer.from('d4:info'), spec.info!, Buffer.from('e')]);
        torrentPath = path.join(dir, 'meta.torrent');
        writeFileSync(torrentPath, torrentBytes);
      }
      const metainfo = parseTorrent(torrentBytes);
      // No data on disk: libtorrent serves metadata all the same while it "downloads".
      const port = await startLibtorrent(torrentPath, dir);
      const result = await fetchMetadata({
        infoHash: metainfo.infoHash!,
        infoHashV2: metainfo.infoHashV2,
        peerId: Buffer.from('-SH0001-' + randomBytes(6).toString('hex')),
        discoveries: [staticPeers([{ host: '127.0.0.1', port }])],
        timeoutMs: 30_000,
      });
      expect(sha1(result.infoBytes)).toEqual(Buffer.from(metainfo.infoHash!));
      expect(Buffer.from(result.infoBytes).equals(Buffer.from(metainfo.infoBytes))).toBe(true);
      expect(result.peers).toEqual([{ host: '127.0.0.1', port }]);
    });
  }
});
