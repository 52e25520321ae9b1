/**
 * The connections a magnet's metadata phase hands to the download, one peer
 * each. The download starts many turns of the event loop after the metadata
 * arrived (the torrent is parsed, the data on disk checked), so until it
 * claims a peer this keeps listening for it: what the peer says meanwhile is
 * kept for the download, a handshake that finishes meanwhile is answered as
 * the metadata phase would, and a dial still under way stays one dial (the
 * download takes it on instead of dialling the address a second time, which
 * gave the peer two connections with one peer-id).
 */
import type { PeerAddress } from '../net/peer-address.ts';
import type { PeerConnection } from '../peer/peer-connection.ts';
import type { WireMessage } from '../wire/messages.ts';

/** A peer the metadata phase hands over: claim() it once, or close() it if no download starts. */
export interface HandedOffPeer {
  readonly address: PeerAddress;
  /** Takes the peer over (see ClaimedPeer); null when it is gone (its dial failed, or it closed). */
  claim(): ClaimedPeer | null;
  /** Closes it unless it was claimed (the claimer owns it then). */
  close(reason: string): void;
}

export type ClaimedPeer =
  /**
   * The handshake finished during the metadata phase: the messages it sent since, in order, and
   * the payload of its extension handshake, to replay as if they had just arrived.
   */
  | {
      ready: true;
      connection: PeerConnection;
      messages: WireMessage[];
      extendedHandshake: Uint8Array | null;
    }
  /**
   * The dial or the handshake is still under way: the claimer treats it as a dial of its own (it
   * listens for 'ready'). Settles with null when the dial fails.
   */
  | { ready: false; connection: Promise<PeerConnection | null> };

/** Messages kept per peer for the download (a peer flooding `have`s is cut off, not buffered). */
export const MAX_HANDOFF_MESSAGES = 4096;

/** Closes every peer a metadata phase handed over that nothing claimed. */
export function closeHandedOff(peers: readonly HandedOffPeer[], reason: string): void {
  for (const peer of peers) peer.close(reason);
}

/**
 * One handed-off peer as the metadata phase keeps it until claimed: a dial
 * under way, a connection in its handshake, or a ready connection whose
 * messages are kept.
 */
export class PendingHandOff implements HandedOffPeer {
  readonly address: PeerAddress;
  readonly #greet: (connection: PeerConnection) => void;
  #connection: PeerConnection | null = null;
  /** The dial has not landed yet. */
  #dialing: boolean;
  #gone = false;
  #claimed = false;
  /** Set when claimed while dialing: hands the connection over when the dial lands. */
  #onLanded: ((connection: PeerConnection | null) => void) | null = null;
  /** Closed before the dial landed: close it when it lands. */
  #closeReason: string | null = null;
  #ready = false;
  readonly #messages: WireMessage[];
  #extendedHandshake: Uint8Array | null;
  readonly #listeners = {
    ready: () => this.#onReady(),
    message: (message: WireMessage) => this.#onMessage(message),
    close: () => this.#onClose(),
  };

  /**
   * `connection`: null while the dial is under way (then landed() or failed() follows).
   * `greet` answers a handshake that finishes before the claim (our extension handshake).
   */
  constructor(
    address: PeerAddress,
    connection: PeerConnection | null,
    greet: (connection: PeerConnection) => void,
    heard: { messages: WireMessage[]; extendedHandshake: Uint8Array | null } = {
      messages: [],
      extendedHandshake: null,
    },
  ) {
    this.address = address;
    this.#greet = greet;
    this.#messages = heard.messages;
    this.#extendedHandshake = heard.extendedHandshake;
    this.#dialing = connection === null;
    if (connection) this.#listen(connection);
  }

  /** The dial made before the hand-off connected. */
  landed(connection: PeerConnection): void {
    this.#dialing = false;
    if (this.#onLanded) {
      this.#onLanded(connection);
      this.#onLanded = null;
    } else if (this.#closeReason !== null) connection.close(this.#closeReason);
    else this.#listen(connection);
  }

  /** The dial made before the hand-off failed. */
  failed(): void {
    this.#dialing = false;
    this.#gone = true;
    this.#onLanded?.(null);
    this.#onLanded = null;
  }

  claim(): ClaimedPeer | null {
    if (this.#claimed) throw new Error('a handed-off peer is claimed once');
    this.#claimed = true;
    if (this.#gone) return null;
    if (this.#dialing) {
      return {
        ready: false,
        connection: new Promise((resolve) => (this.#onLanded = resolve)),
      };
    }
    const connection = this.#connection!;
    this.#unlisten(connection);
    if (connection.closed) return null;
    if (!this.#ready) return { ready: false, connection: Promise.resolve(connection) };
    return {
      ready: true,
      connection,
      messages: this.#messages,
      extendedHandshake: this.#extendedHandshake,
    };
  }

  close(reason: string): void {
    if (this.#claimed) return;
    this.#claimed = true;
    if (this.#dialing) this.#closeReason = reason;
    else this.#connection?.close(reason);
  }

  #listen(connection: PeerConnection): void {
    this.#connection = connection;
    this.#ready = connection.remote !== null;
    connection.on('ready', this.#listeners.ready);
    connection.on('message', this.#listeners.message);
    connection.on('close', this.#listeners.close);
  }

  #unlisten(connection: PeerConnection): void {
    connection.off('ready', this.#listeners.ready);
    connection.off('message', this.#listeners.message);
    connection.off('close', this.#listeners.close);
  }

  #onReady(): void {
    this.#ready = true;
    this.#greet(this.#connection!);
  }

  #onMessage(message: WireMessage): void {
    if (message.type === 'extended') {
      if (message.id === 0) this.#extendedHandshake = message.payload;
      // Other extended messages (metadata, pex) were for the metadata phase, which is over.
      return;
    }
    // Kept for the download, which knows the piece count this phase cannot check against.
    if (this.#messages.length >= MAX_HANDOFF_MESSAGES)
      this.#connection!.close('too many messages before the metadata arrived');
    else this.#messages.push(message);
  }

  #onClose(): void {
    this.#gone = true;
  }
}
