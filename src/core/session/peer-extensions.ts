/**
 * The BEP 10 extensions a session speaks once it has the metadata:
 * - our extended handshake (client name, listen port, request queue size,
 *   metadata size, the extension ids below; the peer's address as we see it,
 *   `yourip`, and our global IPv6 address, `ipv6`, when we have one);
 * - the addresses a peer's handshake says it also listens on (its `ipv6`);
 * - ut_metadata (BEP 9): serving the info dictionary to peers that joined
 *   through a magnet link;
 * - ut_pex (BEP 11): learning peers from peers and telling them ours, at most
 *   once a minute each. Private torrents (BEP 27) never use PEX.
 * Malformed extension messages throw WireProtocolError; the session closes
 * that connection.
 */
import {
  LOCAL_EXTENSION_IDS,
  MAX_METADATA_SIZE,
  MetadataServer,
  UT_METADATA,
} from '../metadata/index.ts';
import {
  addressKeyOf,
  encodePex,
  PexFlag,
  PexIntake,
  PexState,
  UT_PEX,
  type PexPeer,
} from '../pex/index.ts';
import { globalIpv6Address } from '../net/own-address.ts';
import { ipv6Text } from '../net/ip-text.ts';
import { addressBytes, addressKey, validatePeer, type PeerAddress } from '../net/peer-address.ts';
import { mayAdvertise } from '../pex/address-scope.ts';
import { encodeExtendedHandshake, type ExtendedHandshake } from '../wire/extension.ts';
import type { WireMessage } from '../wire/messages.ts';

/** What the extensions need to know about a connected peer. */
export interface ExtensionPeer {
  key: string;
  address: PeerAddress;
  outgoing: boolean;
  seed: boolean;
  extended: ExtendedHandshake | null;
  send(message: WireMessage): void;
}

export interface PeerExtensionsOptions {
  infoBytes: Uint8Array;
  isPrivate: boolean;
  clientName: string;
  maxRequests: number;
  /** Our listening port (0 when not listening). */
  port: () => number;
  /** Peers learned through PEX. */
  addPeers: (peers: PeerAddress[], source: string) => void;
  /** Our global IPv6 address, sent as `ipv6` (default: this machine's, see own-address.ts). */
  ownIpv6?: () => string | undefined;
}

export class PeerExtensions {
  readonly #options: PeerExtensionsOptions;
  /** Null when the info dictionary is larger than ut_metadata can carry: it is not offered. */
  readonly #metadata: MetadataServer | null;
  readonly #pex: PexState | null;
  /** Rate limit, caps and address-scope rule for what peers tell us (issue #15). */
  readonly #pexIntake = new PexIntake();

  constructor(options: PeerExtensionsOptions) {
    this.#options = options;
    // A v1 torrent of a million 16 KiB pieces has a 20 MiB info dictionary: it still downloads
    // and seeds, peers just cannot fetch its metadata from us (nor could they from anyone).
    this.#metadata =
      options.infoBytes.length <= MAX_METADATA_SIZE ? new MetadataServer(options.infoBytes) : null;
    this.#pex = options.isPrivate ? null : new PexState();
  }

  /** Payload of our extended handshake to a peer at `to` (its `yourip`; omitted without it). */
  handshake(to?: PeerAddress): Uint8Array {
    const m: Record<string, number> = {};
    if (this.#metadata) m[UT_METADATA] = LOCAL_EXTENSION_IDS.ut_metadata;
    if (this.#pex) m[UT_PEX] = LOCAL_EXTENSION_IDS.ut_pex;
    const port = this.#options.port();
    // Our IPv6 address is only worth telling when we listen (on both stacks, as the client does).
    const ownIpv6 = port ? (this.#options.ownIpv6 ?? globalIpv6Address)() : undefined;
    return encodeExtendedHandshake({
      m,
      v: this.#options.clientName,
      p: port || undefined,
      reqq: this.#options.maxRequests,
      metadataSize: this.#metadata?.size,
      yourIp: (to && addressBytes(to.host)) ?? undefined,
      ipv6: ownIpv6 ? (addressBytes(ownIpv6) ?? undefined) : undefined,
    });
  }

  /**
   * Other addresses a peer's extended handshake says it listens on: its
   * `ipv6` at its `p`. A mapped IPv4, unusable, or (by the PEX scope rule) too
   * close an address is ignored, as is the address it is connected from.
   */
  listenAddresses(peer: ExtensionPeer): PeerAddress[] {
    const { ipv6, p } = peer.extended ?? {};
    if (!ipv6 || !p) return [];
    const address = validatePeer(ipv6Text(ipv6), p);
    if (!address || !address.host.includes(':')) return [];
    if (!mayAdvertise(peer.address.host, address.host)) return [];
    if (addressKey(address) === addressKey({ host: peer.address.host, port: p })) return [];
    return [address];
  }

  /** Handles an extended message (not the handshake) addressed to one of our ids. */
  onMessage(peer: ExtensionPeer, id: number, payload: Uint8Array): void {
    if (id === LOCAL_EXTENSION_IDS.ut_metadata) {
      const reply = this.#metadata?.handle(peer.key, payload);
      const theirId = peer.extended?.m.get(UT_METADATA);
      if (reply && theirId) peer.send({ type: 'extended', id: theirId, payload: reply });
      return;
    }
    if (id === LOCAL_EXTENSION_IDS.ut_pex && this.#pex) {
      const sender = { key: peer.key, host: peer.address.host };
      this.#options.addPeers(this.#pexIntake.receive(sender, payload, Date.now()), 'pex');
    }
  }

  /** Sends each PEX-capable peer what changed in our peer list since we last told it. */
  sharePeers(peers: readonly ExtensionPeer[], now: number): void {
    if (!this.#pex) return;
    const connected: PexPeer[] = [];
    for (const peer of peers) {
      // Only addresses others can dial: outgoing peers, or incoming ones that told us their port.
      const port = peer.outgoing ? peer.address.port : peer.extended?.p;
      if (!port) continue;
      const flags = (peer.outgoing ? PexFlag.reachable : 0) | (peer.seed ? PexFlag.seed : 0);
      connected.push({ host: peer.address.host, port, flags });
    }
    for (const peer of peers) {
      const theirId = peer.extended?.m.get(UT_PEX);
      if (!theirId) continue;
      const listens = peer.extended?.p
        ? addressKeyOf({ host: peer.address.host, port: peer.extended.p })
        : undefined;
      const message = this.#pex.next(peer.key, connected, now, listens);
      if (message) peer.send({ type: 'extended', id: theirId, payload: encodePex(message) });
    }
  }

  forget(key: string): void {
    this.#metadata?.forget(key);
    this.#pex?.forget(key);
    this.#pexIntake.forget(key);
  }
}
