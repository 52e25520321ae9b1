/**
 * BEP 15 connection ids: a client gets an id bound to its address and port
 * and the current minute; the same id from another address, or after two
 * minutes, or a guessed one, is refused; announces with a bad id get no
 * answer at all, so a spoofed source is never sent anything.
 */
import { describe, expect, it } from 'vitest';
import type { RemoteInfo } from 'node:dgram';
import {
  ConnectionIds,
  CONNECTION_WINDOW_MS,
} from '../../../src/core/tracker-server/connection-ids.ts';
import { TrackerService } from '../../../src/core/tracker-server/tracker-service.ts';
import { answerUdp } from '../../../src/core/tracker-server/udp-handler.ts';
import {
  encodeAnnounceRequest,
  encodeConnectRequest,
  parseAnnounceResponse,
  parseConnectResponse,
  UDP_PROTOCOL_ID,
} from '../../../src/core/tracker/udp-codec.ts';

const from = (address: string, port: number): RemoteInfo => ({
  address,
  port,
  family: address.includes(':') ? 'IPv6' : 'IPv4',
  size: 0,
});

describe('UDP connection ids', () => {
  const t0 = 1_000 * CONNECTION_WINDOW_MS + 5;

  it('are valid for the address and port they were issued to, for one to two minutes', () => {
    const ids = new ConnectionIds();
    const id = ids.issue('127.0.0.1', 4000, t0);
    expect(ids.check(id, '127.0.0.1', 4000, t0)).toBe(true);
    expect(ids.check(id, '127.0.0.1', 4000, t0 + CONNECTION_WINDOW_MS)).toBe(true);
    expect(ids.check(id, '127.0.0.1', 4000, t0 + 2 * CONNECTION_WINDOW_MS)).toBe(false);
    expect(ids.check(id, '127.0.0.2', 4000, t0)).toBe(false);
    expect(ids.check(id, '127.0.0.1', 4001, t0)).toBe(false);
    // The protocol constant (what bittorrent-tracker uses as every id) is not an id here.
    expect(ids.check(UDP_PROTOCOL_ID, '127.0.0.1', 4000, t0)).toBe(false);
  });

  it('differ between tracker processes (secret per process) and between addresses', () => {
    const a = new ConnectionIds();
    const b = new ConnectionIds();
    expect(a.issue('127.0.0.1', 1, t0)).not.toBe(b.issue('127.0.0.1', 1, t0));
    expect(a.issue('127.0.0.1', 1, t0)).not.toBe(a.issue('127.0.0.1', 2, t0));
  });

  it('an announce is answered only with the id issued to its source', () => {
    const service = new TrackerService({
      intervalSec: 60,
      whitelist: null,
      maxPeers: 100,
      maxPeersPerTorrent: 100,
      maxTorrents: 10,
    });
    const ids = new ConnectionIds();
    const client = from('127.0.0.1', 5000);
    const connect = answerUdp(service, ids, Buffer.from(encodeConnectRequest(7)), client, t0)!;
    const id = parseConnectResponse(connect, 7);
    const params = {
      infoHash: new Uint8Array(20).fill(1),
      peerId: new Uint8Array(20).fill(2),
      port: 6881,
      uploaded: 0,
      downloaded: 0,
      left: 5,
    };
    const request = Buffer.from(encodeAnnounceRequest(id, 8, params));
    expect(answerUdp(service, ids, request, from('127.0.0.9', 5000), t0)).toBeNull();
    expect(
      answerUdp(service, ids, Buffer.from(encodeAnnounceRequest(id ^ 1n, 8, params)), client, t0),
    ).toBeNull();
    expect(service.registry.counts.peers).toBe(0);
    const answer = answerUdp(service, ids, request, client, t0)!;
    expect(parseAnnounceResponse(answer, 8, false).leechers).toBe(1);
    expect(service.registry.counts.peers).toBe(1);
  });
});
