/**
 * The rule for two connections to one peer, apart from the pool that applies
 * it at each handshake (peer-pool.ts, `#acceptRemote`): a decision both ends
 * must make alike, tested on its own.
 */

/** Why the loser of two connections to one peer closes (see keepsNewConnection). */
export const DUPLICATE_REASON = 'duplicate connection to this peer';

/**
 * Two connections to one peer (it dialled us while we dialled it, or we
 * dialled an address it also listens on): which one stays. Both ends must
 * drop the same one, or each drops the one the other kept and nothing is
 * left; so this is libtorrent's rule (bt_peer_connection.cpp, "duplicate
 * peer-id"): the peer with the greater peer-id, compared as bytes, is the one
 * whose outgoing connection is kept.
 */
export function keepsNewConnection(
  ourPeerId: Uint8Array,
  theirPeerId: Uint8Array,
  newIsOutgoing: boolean,
): boolean {
  return Buffer.compare(theirPeerId, ourPeerId) < 0 === newIsOutgoing;
}
