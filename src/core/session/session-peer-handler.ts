/**
 * The session's side of each peer's protocol (PeerHandler, peer/peer.ts): a
 * table from what a peer said to the part of the session that owns it.
 * Downloading answers unchokes, haves, bitfields and blocks; the uploader
 * answers interest and requests; PeerExtensions the extended messages; the
 * BEP 52 layer server and fetcher the hash messages.
 *
 * A peer's malformed extension message costs that peer its connection; any
 * other exception is our bug and escapes (the pool fails the session with it).
 */
import { BencodeError } from '../bencode/index.ts';
import type { Peer, PeerHandler } from '../peer/peer.ts';
import { WireProtocolError } from '../wire/errors.ts';
import type { DownloadScheduler } from './download-scheduler.ts';
import type { PeerExtensions, ExtensionPeer } from './peer-extensions.ts';
import type { PeerPool } from './peer-pool.ts';
import type { PieceLayerFetcher } from './piece-layer-fetcher.ts';
import type { PieceLayerServer } from './piece-layer-server.ts';
import type { Uploader } from './uploader.ts';

export interface SessionParts {
  download: DownloadScheduler;
  upload: Uploader;
  extensions: PeerExtensions;
  layerServer: PieceLayerServer;
  /** The pool is made with this handler, so it is reached lazily. */
  pool: () => PeerPool;
  /** Only while piece layers are being fetched. */
  layerFetcher: () => PieceLayerFetcher | null;
}

export function sessionPeerHandler(parts: SessionParts): PeerHandler {
  const { download, upload, extensions, layerServer } = parts;
  return {
    canRequest: (peer) => download.fillRequests(peer),
    requestsDropped: (peer, requests) => download.requestsLost(peer, requests),
    have: (peer, index) => download.peerHas(peer, index),
    piecesReplaced: (peer, previous) => download.piecesReplaced(peer, previous),
    block: (peer, request, data) => download.onBlock(peer, request, data),
    interested: (peer) => upload.onInterested(peer),
    uploadRequested: (peer, request) => upload.onRequest(peer, request),
    extended: (peer) => {
      parts.pool().setListenPort(peer, peer.extended?.p);
      const elsewhere = extensions.listenAddresses(extensionPeer(peer));
      parts.pool().alsoListensAt(peer, elsewhere, 'extension handshake');
    },
    extension: (peer, id, payload) => {
      try {
        extensions.onMessage(extensionPeer(peer), id, payload);
      } catch (error) {
        if (!(error instanceof WireProtocolError || error instanceof BencodeError)) throw error;
        peer.close(`bad extension message: ${error.message}`);
      }
    },
    hashRequest: (peer, request) =>
      layerServer.answerWith(request, (answer) => peer.conn.send(answer)),
    // Hashes nobody is fetching (any more) are ignored, as a late block is; nothing is stored.
    hashes: (peer, message) => parts.layerFetcher()?.onHashes(peer, message),
    hashRejected: (peer, range) => parts.layerFetcher()?.onReject(peer, range),
  };
}

/** What PeerExtensions needs of a peer (it never sees the connection itself). */
export function extensionPeer(peer: Peer): ExtensionPeer {
  return {
    key: peer.key,
    address: peer.conn.address,
    outgoing: peer.conn.outgoing,
    seed: peer.seed,
    extended: peer.extended,
    send: (message) => peer.conn.send(message),
  };
}
