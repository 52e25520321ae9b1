/**
 * The connections of one metadata fetch: the addresses it learned, dialing
 * them within its slot limit, the state kept per connected peer, and, when
 * the metadata has arrived, handing connections and dials under way to the
 * download (hand-off.ts) or closing them. What is said over a connection is
 * the fetch's business (fetch-metadata.ts), told through the callbacks.
 */
import { sameBytes } from '../bytes.ts';
import type { PeerAddress } from '../net/peer-address.ts';
import {
  DialCandidates,
  MAX_DIAL_CANDIDATES,
  type DialCandidate,
} from '../peer/dial-candidates.ts';
import { PeerConnection } from '../peer/peer-connection.ts';
import { tcpTransport } from '../transport/tcp.ts';
import type { Transport } from '../transport/transport.ts';
import { encodeExtendedHandshake } from '../wire/extension.ts';
import { makeReserved, supportsExtensionProtocol } from '../wire/handshake.ts';
import type { WireMessage } from '../wire/messages.ts';
import { PendingHandOff, type HandedOffPeer } from './hand-off.ts';

/** One connected peer as the fetch sees it. */
export interface PeerState {
  connection: PeerConnection;
  metadataSize: number | null;
  /** The peer's id for ut_metadata (from its handshake). */
  remoteId: number;
  /** piece -> time requested. */
  requests: Map<number, number>;
  rejects: number;
  /** After a reject, leave the peer alone until then. */
  backoffUntil: number;
  /** The BitTorrent handshake completed. */
  ready: boolean;
  /** A peer without metadata kept only to hear its ut_pex: close it then. */
  pexOnlyUntil: number | null;
  /** With handOff: its non-extended messages, and its extension handshake (see HandedOffPeer). */
  messages: WireMessage[];
  extendedHandshake: Uint8Array | null;
}

export interface MetadataConnectionsOptions {
  infoHash: Uint8Array;
  peerId: Uint8Array;
  /** The connections are handed to a download afterwards (they offer the fast extension then). */
  handOff: boolean;
  /** Most connections, dials under way included. */
  maxPeers: number;
  transport?: Transport;
  connectTimeoutMs?: number;
  /** Our extension handshake: the ids we ask peers to use, our name, our listening port (0: none). */
  extensions: Record<string, number>;
  clientName: string;
  port: number;
  /** A peer finished its BitTorrent handshake (before we send ours of the extension protocol). */
  ready: (state: PeerState) => void;
  message: (state: PeerState, message: WireMessage) => void;
  /** A connection closed while the fetch runs. */
  closed: (state: PeerState, reason: string) => void;
  /** A dial failed while the fetch runs. */
  dialFailed: (key: string, reason: string) => void;
}

interface DialUnderWay {
  address: PeerAddress;
  /** Set when the metadata arrived first (with handOff): the connection goes there. */
  handOff: PendingHandOff | null;
}

export class MetadataConnections {
  /**
   * Every address learned, in order, with the data phase's backoff rule. One
   * that connected is not dialed again here (`busy` stays set): it either
   * gave us metadata or had none to give.
   */
  readonly candidates = new DialCandidates({ max: MAX_DIAL_CANDIDATES });
  /** Connected peers by connection key. */
  readonly peers = new Map<string, PeerState>();
  readonly #o: MetadataConnectionsOptions;
  /**
   * Addresses being dialed (they count against maxPeers); with handOff, a dial
   * still under way when the metadata arrives gets its hand-off here.
   */
  readonly #dialing = new Map<string, DialUnderWay>();
  #done = false;

  constructor(options: MetadataConnectionsOptions) {
    this.#o = options;
  }

  /** Dials candidates while slots are free and their backoff has passed. */
  connectMore(): void {
    for (const candidate of this.candidates.dialable(Date.now())) {
      if (this.#done || this.peers.size + this.#dialing.size >= this.#o.maxPeers) return;
      this.candidates.dialing(candidate);
      void this.#connect(candidate);
    }
  }

  /**
   * The metadata arrived: every connection and every dial under way, for the
   * download to claim. Nothing is tracked here afterwards.
   */
  handOff(): HandedOffPeer[] {
    const handedOff: HandedOffPeer[] = [];
    const greet = (connection: PeerConnection) => this.#greet(connection);
    for (const state of this.peers.values()) {
      const { connection } = state;
      if (connection.closed) continue;
      // From now on the hand-off listens to this connection, until the download claims it.
      connection.removeAllListeners('ready');
      connection.removeAllListeners('message');
      connection.removeAllListeners('close');
      const heard = { messages: state.messages, extendedHandshake: state.extendedHandshake };
      handedOff.push(new PendingHandOff(connection.address, connection, greet, heard));
    }
    this.peers.clear();
    // Dials under way go too: the download must not dial those addresses a second time.
    for (const dial of this.#dialing.values()) {
      dial.handOff = new PendingHandOff(dial.address, null, greet);
      handedOff.push(dial.handOff);
    }
    return handedOff;
  }

  /** The fetch is over: closes what was not handed off, and dials that land from now on. */
  close(reason: string): void {
    this.#done = true;
    for (const state of [...this.peers.values()]) state.connection.close(reason);
  }

  async #connect(candidate: DialCandidate): Promise<void> {
    const { key, address } = candidate;
    const dial: DialUnderWay = { address, handOff: null };
    this.#dialing.set(key, dial);
    let connection: PeerConnection;
    try {
      connection = await this.#dial(address, candidate.infoHash);
    } catch (error) {
      this.#dialing.delete(key);
      dial.handOff?.failed();
      if (!this.#done) {
        this.candidates.failed(candidate);
        this.#o.dialFailed(key, (error as Error).message);
      }
      return;
    }
    this.#dialing.delete(key);
    if (dial.handOff) dial.handOff.landed(connection);
    else if (this.#done) connection.close('metadata complete');
    else this.#track(connection, candidate);
  }

  /** `swarm`: the hash of the swarm the address was found in (a hybrid's other), if not ours. */
  #dial(address: PeerAddress, swarm?: Uint8Array): Promise<PeerConnection> {
    const { peerId } = this.#o;
    const infoHash = swarm ?? this.#o.infoHash;
    return PeerConnection.dial(this.#o.transport ?? tcpTransport, address, {
      local: {
        infoHash,
        peerId,
        // The download carries handed-off connections on, with the fast extension if both have it.
        reserved: makeReserved({ extensionProtocol: true, fastExtension: this.#o.handOff }),
      },
      acceptRemote: (remote) => {
        if (!sameBytes(remote.infoHash, infoHash)) return 'handshake for another torrent';
        if (sameBytes(remote.peerId, peerId)) return 'connected to ourselves';
        if (!supportsExtensionProtocol(remote.reserved)) return 'peer has no extension protocol';
        return null;
      },
      connectTimeoutMs: this.#o.connectTimeoutMs,
    });
  }

  /** Our extension handshake, sent once the BitTorrent handshake is done. */
  #greet(connection: PeerConnection): void {
    connection.send({
      type: 'extended',
      id: 0,
      payload: encodeExtendedHandshake({
        m: this.#o.extensions,
        v: this.#o.clientName,
        ...(this.#o.port ? { p: this.#o.port } : {}),
      }),
    });
  }

  #track(connection: PeerConnection, candidate: DialCandidate): void {
    const state: PeerState = {
      connection,
      metadataSize: null,
      remoteId: 0,
      requests: new Map(),
      rejects: 0,
      backoffUntil: 0,
      ready: false,
      pexOnlyUntil: null,
      messages: [],
      extendedHandshake: null,
    };
    this.peers.set(connection.key, state);
    connection.on('ready', () => {
      state.ready = true;
      this.#o.ready(state);
      this.#greet(connection);
    });
    connection.on('message', (message) => this.#o.message(state, message));
    connection.on('close', (reason) => {
      this.peers.delete(connection.key);
      if (this.#done) return;
      // Closed before its handshake: a peer starting up or busy; try again later.
      if (!state.ready) this.candidates.failed(candidate);
      this.#o.closed(state, reason);
    });
  }
}
