/**
 * A Client's encrypted connections (MSE/PE), against real sockets on
 * 127.0.0.1: incoming plaintext and MSE connections are told apart and
 * routed to the torrent their SKEY names, among several; `require` refuses
 * plaintext; and hostile handshakes (no sync marker within the 512-byte
 * padding bound, a wrong VC, an unknown SKEY, a crypto_provide offering
 * nothing) are closed at once, long before the client's own time bound
 * (60 s here), while honest connections keep being accepted. Outgoing: a
 * peer whose crypto_select offers nothing we provided is refused under
 * `require`, and retried in plaintext under `prefer`; a dialled peer gets our
 * BitTorrent handshake inside the MSE handshake (its IA), not a round trip later.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, type ClientTorrent } from '../../../src/core/client/client.ts';
import { HashPool } from '../../../src/core/hashing/pool.ts';
import type { PeerAddress } from '../../../src/core/net/peer-address.ts';
import { PeerConnection } from '../../../src/core/peer/peer-connection.ts';
import { HandshakeReader } from '../../../src/core/transport/mse/handshake-reader.ts';
import { respondMse } from '../../../src/core/transport/mse/mse-receiver.ts';
import { CryptoMethod } from '../../../src/core/transport/mse/policy.ts';
import { SkeyIndex } from '../../../src/core/transport/mse/skey-index.ts';
import { secureOutgoing, type EncryptionPolicy } from '../../../src/core/transport/mse/index.ts';
import { encodeHandshake, makeReserved } from '../../../src/core/wire/index.ts';
import { fakeInitiator, fakeReceiver } from '../transport/mse/fake-peers.ts';

/** Far above every wait below: a connection closed within them was not closed by this timer. */
const OPENING_TIMEOUT_MS = 60_000;
const WAIT_MS = 20_000;

const clients: Client[] = [];
const sockets: net.Socket[] = [];
const servers: net.Server[] = [];
/** Streams handed to fake torrents: nobody reads them, so they would hold the listener open. */
const acceptedStreams: Duplex[] = [];
const pool = new HashPool({ threads: 1 });
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const stream of acceptedStreams.splice(0)) stream.destroy();
  for (const server of servers.splice(0)) server.close();
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

/** A torrent that records the connections routed to it. */
function fakeTorrent(): ClientTorrent & { accepted: { stream: Duplex; opening: Uint8Array }[] } {
  const accepted: { stream: Duplex; opening: Uint8Array }[] = [];
  return {
    infoHash: randomBytes(20),
    accepted,
    accept(stream: Duplex, _address: PeerAddress, opening: Uint8Array) {
      accepted.push({ stream, opening });
      acceptedStreams.push(stream);
    },
  };
}

async function startClient(encryption: EncryptionPolicy, torrents: ClientTorrent[]) {
  const client = new Client({
    port: 0,
    hashPool: pool,
    transports: 'tcp',
    encryption,
    openingTimeoutMs: OPENING_TIMEOUT_MS,
  });
  clients.push(client);
  await client.start();
  for (const torrent of torrents) client.add(torrent);
  return client;
}

async function connectTo(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => {});
  await once(socket, 'connect');
  return socket;
}

function handshakeFor(infoHash: Uint8Array): Buffer {
  return Buffer.from(
    encodeHandshake({ infoHash, peerId: randomBytes(20), reserved: new Uint8Array(8) }),
  );
}

/** Resolves once the client has closed `socket`; fails the test after WAIT_MS. */
async function closedByClient(socket: net.Socket): Promise<void> {
  if (socket.closed) return;
  socket.resume();
  await Promise.race([
    once(socket, 'close'),
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('the client kept the connection open')), WAIT_MS),
    ),
  ]);
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An honest encrypted connection for `torrent`, carrying its handshake as IA. */
async function encryptedConnection(port: number, torrent: ClientTorrent) {
  const socket = await connectTo(port);
  return secureOutgoing(socket, {
    policy: 'require',
    infoHash: torrent.infoHash,
    initialPayload: handshakeFor(torrent.infoHash),
  });
}

describe('Client: incoming encrypted connections', () => {
  it('routes MSE connections by SKEY among several torrents, and plaintext ones by info-hash', async () => {
    const [a, b] = [fakeTorrent(), fakeTorrent()];
    const client = await startClient('prefer', [a, b]);

    const secured = await encryptedConnection(client.port, b);
    expect(secured.mode).toBe('rc4');
    await until(() => b.accepted.length === 1);
    expect(Buffer.from(b.accepted[0].opening)).toEqual(handshakeFor(b.infoHash).subarray(0, 48));

    // Bytes after the handshake arrive deciphered on the stream the torrent was given.
    const received: Buffer[] = [];
    b.accepted[0].stream.on('data', (chunk: Buffer) => received.push(chunk));
    b.accepted[0].stream.resume();
    secured.stream.write(Buffer.from('hello through rc4'));
    await until(() => Buffer.concat(received).toString().includes('hello through rc4'));

    const plain = await connectTo(client.port);
    plain.write(handshakeFor(a.infoHash));
    await until(() => a.accepted.length === 1);
    expect(b.accepted).toHaveLength(1);
  });

  it('require: a plaintext handshake is refused, an encrypted one accepted', async () => {
    const torrent = fakeTorrent();
    const client = await startClient('require', [torrent]);
    const plain = await connectTo(client.port);
    plain.write(handshakeFor(torrent.infoHash));
    await closedByClient(plain);
    expect(torrent.accepted).toHaveLength(0);

    await encryptedConnection(client.port, torrent);
    await until(() => torrent.accepted.length === 1);
  });

  it('off: an MSE opening is refused', async () => {
    const torrent = fakeTorrent();
    const client = await startClient('off', [torrent]);
    const socket = await connectTo(client.port);
    await expect(
      secureOutgoing(socket, { policy: 'require', infoHash: torrent.infoHash, timeoutMs: WAIT_MS }),
    ).rejects.toThrow();
    await closedByClient(socket);
    expect(torrent.accepted).toHaveLength(0);
  });

  const HOSTILE: [string, (skey: Uint8Array) => Parameters<typeof fakeInitiator>[1]][] = [
    ['no sync marker within 512 bytes of padding', (skey) => ({ skey, junkInsteadOfSync: 700 })],
    [
      'a wrong verification constant',
      (skey) => ({ skey, vc: Buffer.from([0, 0, 0, 1, 0, 0, 0, 0]) }),
    ],
    ['an SKEY naming no torrent the client runs', () => ({ skey: randomBytes(20) })],
    ['a crypto_provide offering nothing', (skey) => ({ skey, provide: 0 })],
  ];

  it.each(HOSTILE)('%s: closed at once, and the client goes on accepting', async (_, knobs) => {
    const torrent = fakeTorrent();
    const client = await startClient('prefer', [torrent]);
    // Several at once: none may hold a slot or stall the others.
    const hostile = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const socket = await connectTo(client.port);
        await fakeInitiator(socket, knobs(torrent.infoHash)).catch(() => {});
        return socket;
      }),
    );
    await Promise.all(hostile.map((socket) => closedByClient(socket)));
    expect(torrent.accepted).toHaveLength(0);

    await encryptedConnection(client.port, torrent);
    await until(() => torrent.accepted.length === 1);
  });

  it('an MSE connection whose BitTorrent handshake names another torrent than its SKEY is closed', async () => {
    const [a, b] = [fakeTorrent(), fakeTorrent()];
    const client = await startClient('prefer', [a, b]);
    const socket = await connectTo(client.port);
    await secureOutgoing(socket, {
      policy: 'require',
      infoHash: a.infoHash,
      initialPayload: handshakeFor(b.infoHash),
    });
    await closedByClient(socket);
    expect(a.accepted.length + b.accepted.length).toBe(0);
  });
});

describe('Client: outgoing encrypted connections', () => {
  /**
   * A peer that answers the MSE handshake with crypto_select 0 (nothing we
   * provided), and records what a later connection opens with.
   */
  async function selectingNothingPeer(): Promise<{ port: number; plainOpenings: Buffer[] }> {
    const plainOpenings: Buffer[] = [];
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', (first: Buffer) => {
        if (first[0] === 19) {
          plainOpenings.push(first);
          return;
        }
        socket.unshift(first);
        fakeReceiver(socket, { skey: infoHash, select: 0 }).catch(() => {});
      });
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as net.AddressInfo).port, plainOpenings };
  }
  const infoHash = randomBytes(20);
  /** A client that only dials (no listening port), over TCP. */
  const dialingClient = (encryption: EncryptionPolicy) => {
    const client = new Client({ port: null, hashPool: pool, transports: 'tcp', encryption });
    clients.push(client);
    return client;
  };
  const dial = (client: Client, port: number) =>
    client.transport.dial(
      { host: '127.0.0.1', port },
      { timeoutMs: WAIT_MS, infoHash, onData() {} },
    );

  it('require: an empty crypto_select fails the dial', async () => {
    const peer = await selectingNothingPeer();
    const client = dialingClient('require');
    await expect(dial(client, peer.port)).rejects.toThrow(/crypto/);
    expect(peer.plainOpenings).toHaveLength(0);
  });

  it('prefer: an empty crypto_select makes it dial again in plaintext', async () => {
    const peer = await selectingNothingPeer();
    const client = dialingClient('prefer');
    const stream = await dial(client, peer.port);
    sockets.push(stream as net.Socket);
    stream.write(handshakeFor(infoHash));
    await until(() => peer.plainOpenings.length === 1);
    expect(peer.plainOpenings[0].subarray(1, 20).toString()).toBe('BitTorrent protocol');
  });

  it('a dialled peer gets our BitTorrent handshake inside the MSE handshake (IA)', async () => {
    // The peer answers crypto_select and keeps the connection; what came as IA is recorded.
    const initialPayloads: Buffer[] = [];
    const skeys = new SkeyIndex();
    skeys.add(infoHash);
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      respondMse(socket, new HandshakeReader(socket), {
        allowedCrypto: CryptoMethod.plaintext | CryptoMethod.rc4,
        lookup: skeys.lookup,
      }).then(
        (outcome) => initialPayloads.push(outcome.initialPayload),
        () => {},
      );
    });
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const client = dialingClient('prefer');
    const local = {
      infoHash,
      peerId: randomBytes(20),
      reserved: makeReserved({ extensionProtocol: true }),
    };
    const connection = await PeerConnection.dial(
      client.transport,
      { host: '127.0.0.1', port: (server.address() as net.AddressInfo).port },
      { local, acceptRemote: () => null, connectTimeoutMs: WAIT_MS },
    );
    try {
      await until(() => initialPayloads.length === 1);
      expect(initialPayloads[0]).toEqual(Buffer.from(encodeHandshake(local)));
    } finally {
      connection.close('test over');
    }
  });
});
