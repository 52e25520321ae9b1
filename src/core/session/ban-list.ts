/**
 * Who shoal refuses to talk to again, and how a ban finds the same peer when
 * it comes back.
 *
 * The rule (bad data is blamed on one connection, then banned by what
 * identifies the peer behind it):
 * - Its peer id is banned, whichever way it connects.
 * - A peer we dialled is banned by `host:port`: that port is where it listens,
 *   so we never dial it again. Other ports of the same address stay allowed:
 *   an honest peer may share the address (NAT, loopback, a seedbox host).
 * - A peer that connected to us comes from a source port it chooses anew for
 *   every connection, so its port identifies nothing: its address is banned
 *   for incoming connections, refused as soon as they are accepted, before
 *   any handshake is read. Honest peers behind the same address can still be
 *   reached by dialling them; the port the offender said it listens on (BEP 10
 *   `p`) is banned for dialling as well.
 * - A peer we dialled does not get its address banned for incoming
 *   connections (the address may be shared); its peer id still is.
 *
 * Each list is bounded (the oldest entries go first) so a swarm of offenders
 * cannot grow it without limit.
 */
import { addressKey, type PeerAddress } from '../net/peer-address.ts';

export interface PeerIdentity {
  /** The connection's remote address (for an incoming one, its port is a source port). */
  address: PeerAddress;
  outgoing: boolean;
  /** Hex of the 20-byte peer id from its handshake. */
  peerIdHex: string;
  /** The listening port it announced (extended handshake `p`), if any. */
  listenPort?: number;
}

const MAX_ENTRIES = 10_000;

export class BanList {
  readonly #endpoints = new Set<string>();
  readonly #incomingHosts = new Set<string>();
  readonly #peerIds = new Set<string>();

  ban(peer: PeerIdentity): void {
    add(this.#peerIds, peer.peerIdHex);
    if (peer.outgoing) {
      add(this.#endpoints, addressKey(peer.address));
    } else {
      add(this.#incomingHosts, normalHost(peer.address.host));
      if (peer.listenPort)
        add(this.#endpoints, addressKey({ host: peer.address.host, port: peer.listenPort }));
    }
  }

  /** An incoming connection from `host`: refuse it before reading anything. */
  refusesIncoming(host: string): boolean {
    return this.#incomingHosts.has(normalHost(host));
  }

  /** Never dial this address again. */
  refusesDial(address: PeerAddress): boolean {
    return this.#endpoints.has(addressKey(address));
  }

  refusesPeerId(peerIdHex: string): boolean {
    return this.#peerIds.has(peerIdHex);
  }

  /** Whether a connection to or from this peer falls under a ban. */
  refuses(peer: PeerIdentity): boolean {
    if (this.refusesPeerId(peer.peerIdHex)) return true;
    return peer.outgoing ? this.refusesDial(peer.address) : this.refusesIncoming(peer.address.host);
  }
}

/** IPv4 peers reach a dual-stack listener as `::ffff:a.b.c.d`. */
function normalHost(host: string): string {
  return host.startsWith('::ffff:') ? host.slice(7) : host;
}

function add(set: Set<string>, value: string): void {
  set.delete(value);
  set.add(value);
  if (set.size > MAX_ENTRIES) set.delete(set.values().next().value!);
}
