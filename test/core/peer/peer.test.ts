/**
 * One peer's protocol state machine, over an in-memory stream pair: no
 * sockets, no torrent session. The far side is a plain PeerConnection the
 * test speaks through; our side is a Peer with a handler that records what
 * it was told.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { Peer, type PeerHandler } from '../../../src/core/peer/peer.ts';
import { PeerConnection } from '../../../src/core/peer/peer-connection.ts';
import { MemoryNetwork } from '../../../src/core/transport/memory.ts';
import type { BlockRef, WireMessage } from '../../../src/core/wire/messages.ts';
import { makeReserved } from '../../../src/core/wire/handshake.ts';

const PIECES = 10;
const PIECE_LENGTH = 64 * 1024;
const infoHash = randomBytes(20);

interface Pair {
  peer: Peer;
  remote: PeerConnection;
  calls: string[];
  dropped: BlockRef[];
  received: WireMessage[];
  blocks: Uint8Array[];
}

const open: PeerConnection[] = [];
afterEach(() => {
  for (const conn of open.splice(0)) conn.close('test over');
});

/** Connects a Peer (our side) to a bare PeerConnection (theirs), both with or without fast. */
async function pair(fast: boolean): Promise<Pair> {
  const network = new MemoryNetwork();
  const options = (reserved: Uint8Array) => ({
    local: { infoHash, peerId: randomBytes(20), reserved },
    acceptRemote: () => null,
  });
  const reserved = makeReserved({ extensionProtocol: true, fastExtension: fast });
  const remoteReady = new Promise<PeerConnection>((resolve) => {
    network.listen('127.0.0.1', ({ stream, address }) => {
      const conn = PeerConnection.accept(stream, address, options(reserved));
      open.push(conn);
      conn.once('ready', () => resolve(conn));
    });
  });
  const ours = await PeerConnection.dial(
    network.transport(),
    { host: '127.0.0.1', port: 40_000 },
    options(reserved),
  );
  open.push(ours);
  await new Promise((resolve) => ours.once('ready', resolve));
  const remote = await remoteReady;
  const calls: string[] = [];
  const dropped: BlockRef[] = [];
  const blocks: Uint8Array[] = [];
  const handler: PeerHandler = {
    canRequest: () => calls.push('canRequest'),
    requestsDropped: (_p, requests) => {
      calls.push('requestsDropped');
      dropped.push(...requests);
    },
    interested: () => calls.push('interested'),
    have: (_p, index) => calls.push(`have ${index}`),
    piecesReplaced: (p, previous) => calls.push(`replaced ${previous.count()}->${p.have.count()}`),
    uploadRequested: (p, r) => {
      // The owner queues what it accepts (see session/uploader.ts); here: everything.
      calls.push(`upload ${r.index}/${r.begin}`);
      p.uploadQueue.push(r);
    },
    extended: () => calls.push('extended'),
    extension: (_p, id) => calls.push(`extension ${id}`),
    block: (_p, request, data) => {
      calls.push(`block ${request.index}/${request.begin}`);
      blocks.push(data);
    },
  };
  const peer = new Peer(ours, { pieceCount: PIECES, pieceLength: PIECE_LENGTH }, handler, {
    maxUploadQueue: 3,
  });
  ours.on('message', (message) => peer.onMessage(message));
  const received: WireMessage[] = [];
  remote.on('message', (message) => received.push(message));
  return { peer, remote, calls, dropped, received, blocks };
}

/** Lets the in-memory streams deliver what was written. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('Peer', () => {
  it('tracks choking both ways and asks for requests when unchoked', async () => {
    const { peer, remote, calls, received } = await pair(true);
    expect(peer.peerChoking).toBe(true);
    remote.send({ type: 'unchoke' });
    await settle();
    expect(peer.peerChoking).toBe(false);
    expect(calls).toEqual(['canRequest']);
    peer.setChoking(false);
    peer.setInterested(true);
    await settle();
    expect(received.map((m) => m.type)).toEqual(['unchoke', 'interested']);
  });

  it('a choke without the fast extension drops every request in flight', async () => {
    const { peer, remote, dropped } = await pair(false);
    remote.send({ type: 'unchoke' });
    await settle();
    peer.request(
      [
        { index: 1, begin: 0, length: 16384 },
        { index: 1, begin: 16384, length: 16384 },
      ],
      Date.now(),
    );
    remote.send({ type: 'choke' });
    await settle();
    expect(peer.outstanding.size).toBe(0);
    expect(dropped).toHaveLength(2);
  });

  it('with the fast extension a choke keeps requests; a reject gives back only that one', async () => {
    const { peer, remote, dropped } = await pair(true);
    peer.request(
      [
        { index: 2, begin: 0, length: 16384 },
        { index: 2, begin: 16384, length: 16384 },
      ],
      Date.now(),
    );
    remote.send({ type: 'choke' });
    remote.send({ type: 'reject', index: 2, begin: 16384, length: 16384 });
    await settle();
    expect(peer.outstanding.size).toBe(1);
    expect(dropped).toEqual([{ type: 'reject', index: 2, begin: 16384, length: 16384 }]);
  });

  it('takes requested blocks, ignores unrequested ones', async () => {
    const { peer, remote, calls, blocks } = await pair(true);
    peer.request([{ index: 3, begin: 16384, length: 16384 }], Date.now());
    const data = randomBytes(16384);
    remote.sendBlock(3, 0, randomBytes(16384)); // never asked for
    remote.sendBlock(3, 16384, data);
    remote.sendBlock(3, 16384, data); // a second copy: no longer outstanding
    await settle();
    expect(calls.filter((c) => c.startsWith('block'))).toEqual(['block 3/16384']);
    expect(Buffer.from(blocks[0]!).equals(data)).toBe(true);
    expect(peer.outstanding.size).toBe(0);
    expect(peer.rtt.timeoutMs({ maxMs: 30_000, minMs: 1 })).toBeLessThan(30_000);
  });

  it('a request is late only when nothing came from the peer for the timeout; a skipped one, after the longest wait', async () => {
    const { peer, remote, received } = await pair(true);
    const t0 = Date.now() - 10_000;
    peer.request(
      [
        { index: 4, begin: 0, length: 16384 },
        { index: 4, begin: 16384, length: 16384 },
        { index: 4, begin: 32768, length: 16384 },
      ],
      t0,
    );
    remote.sendBlock(4, 0, randomBytes(16384));
    await settle();
    // Sent 10 s ago, but the peer delivered a block just now: the rest are on their way.
    const now = Date.now();
    expect(peer.expireRequests(now, 3_000, 60_000)).toEqual([]);
    expect(peer.outstanding.size).toBe(2);
    // Nothing for longer than the timeout: both are late, and cancelled on the wire.
    const late = peer.expireRequests(now + 3_001, 3_000, 60_000);
    expect(late.map((r) => r.begin)).toEqual([16384, 32768]);
    await settle();
    expect(received.filter((m) => m.type === 'cancel')).toHaveLength(2);

    // A request skipped while blocks keep coming goes after the longest wait.
    peer.request([{ index: 5, begin: 0, length: 16384 }], now - 60_001);
    peer.lastBlockAt = now;
    expect(peer.expireRequests(now, 3_000, 60_000).map((r) => r.index)).toEqual([5]);
  });

  it('have, bitfield and have-all update the piece set and tell the owner', async () => {
    const { peer, remote, calls } = await pair(true);
    remote.send({ type: 'have', index: 4 });
    remote.send({ type: 'have', index: 4 }); // known already: not reported twice
    const field = new Uint8Array(2);
    field[0] = 0b1100_0000;
    remote.send({ type: 'bitfield', bytes: field });
    remote.send({ type: 'have-all' });
    await settle();
    expect(calls).toEqual(['have 4', 'replaced 1->2', `replaced 2->${PIECES}`]);
    expect(peer.seed).toBe(true);
  });

  it('closes on a have out of range, and on have-all without the fast extension', async () => {
    const first = await pair(true);
    first.remote.send({ type: 'have', index: PIECES });
    await settle();
    expect(first.peer.closed).toBe(true);
    const second = await pair(false);
    second.remote.send({ type: 'have-all' });
    await settle();
    expect(second.peer.closed).toBe(true);
  });

  it('rejects requests while choking and past the queue cap; choking rejects the queue', async () => {
    const { peer, remote, calls, received } = await pair(true);
    remote.send({ type: 'request', index: 0, begin: 0, length: 16384 });
    await settle();
    expect(received.at(-1)).toMatchObject({ type: 'reject', index: 0 });
    expect(calls).toEqual([]);
    peer.setChoking(false);
    for (let i = 0; i < 5; i++) {
      remote.send({ type: 'request', index: 1, begin: i * 16384, length: 16384 });
    }
    await settle();
    // The queue holds three (maxUploadQueue); the other two are rejected at once.
    expect(calls.filter((c) => c.startsWith('upload'))).toHaveLength(3);
    expect(received.filter((m) => m.type === 'reject')).toHaveLength(1 + 2);
    peer.setChoking(true);
    await settle();
    expect(peer.uploadQueue).toEqual([]);
    expect(received.filter((m) => m.type === 'reject')).toHaveLength(1 + 2 + 3);
  });
});
