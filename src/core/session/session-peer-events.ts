/**
 * What the session does as a peer connects and leaves (PeerPool's
 * `connected` and `disconnected`): a new peer gets our extension handshake
 * and what we have, is served as its socket drains and may be asked for
 * BEP 52 hashes; a leaving one is forgotten by every part that knew it and
 * the blocks it held go to others at once.
 */
import type { Peer } from '../peer/peer.ts';
import type { PiecePicker } from '../swarm/piece-picker.ts';
import { EXTENDED_HANDSHAKE_ID } from '../wire/extension.ts';
import { supportsExtensionProtocol } from '../wire/handshake.ts';
import type { DownloadScheduler } from './download-scheduler.ts';
import type { PeerExtensions } from './peer-extensions.ts';
import type { PieceLayerPhase } from './piece-layer-phase.ts';
import type { Uploader } from './uploader.ts';

export interface PeerEventParts {
  picker: PiecePicker;
  download: DownloadScheduler;
  upload: Uploader;
  extensions: PeerExtensions;
  layers: PieceLayerPhase;
  /** Tells renderers (the session's `peer-connected` and `peer-disconnected`). */
  connected: (peer: { key: string; client: string }) => void;
  disconnected: (peer: { key: string; reason: string }) => void;
}

/** `adopted`: a connection handed over by a magnet's metadata fetch. */
export function peerConnected(parts: PeerEventParts, peer: Peer, adopted: boolean): void {
  const { picker, upload, extensions } = parts;
  parts.connected({ key: peer.key, client: peer.client });
  if (supportsExtensionProtocol(peer.conn.remote!.reserved)) {
    const payload = extensions.handshake(peer.conn.address);
    peer.conn.send({ type: 'extended', id: EXTENDED_HANDSHAKE_ID, payload });
  }
  peer.sendPieces(picker.progress().havePieces, () => picker.bitfield(), adopted);
  peer.conn.on('drain', () => void upload.serve(peer));
  parts.layers.peerConnected();
}

export function peerDisconnected(parts: PeerEventParts, peer: Peer, reason: string): void {
  parts.download.peerGone(peer);
  parts.extensions.forget(peer.key);
  parts.layers.peerGone(peer);
  parts.disconnected({ key: peer.key, reason });
  // Blocks it held go to others at once.
  parts.download.fillAll();
}
