/**
 * Server side of the HTTP tracker: bencoded announce, scrape and failure
 * bodies. Pure. Written by hand rather than through the generic encoder
 * because scrape dictionaries are keyed by raw 20-byte info-hashes, which
 * must go out byte for byte (a JavaScript-object encoder would UTF-8 them).
 */
import type { ScrapeCounts, StoredPeer } from './swarm-registry.ts';
import { peerHost, peerPort } from './peer-address.ts';

/** A bencode writer for the few shapes a tracker answers with; keys must be added in sorted order. */
class BencodeWriter {
  readonly #parts: Buffer[] = [];

  raw(text: string): this {
    this.#parts.push(Buffer.from(text, 'latin1'));
    return this;
  }
  int(value: number): this {
    return this.raw(`i${Math.trunc(value)}e`);
  }
  /** A byte string given as latin1 text (each character one byte). */
  bytes(latin1: string): this {
    return this.raw(`${latin1.length}:`).raw(latin1);
  }
  buffer(bytes: Buffer): this {
    this.raw(`${bytes.length}:`);
    this.#parts.push(bytes);
    return this;
  }
  text(value: string): this {
    const utf8 = Buffer.from(value, 'utf8');
    return this.buffer(utf8);
  }
  done(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

export interface AnnounceAnswer {
  intervalSec: number;
  minIntervalSec: number;
  seeders: number;
  leechers: number;
  peers: StoredPeer[];
  compact: boolean;
  noPeerId: boolean;
  warning?: string;
}

/** Concatenated compact addresses of one family. */
export function compactPeers(peers: StoredPeer[], length: 6 | 18): Buffer {
  const chosen = peers.filter((peer) => peer.address.length === length);
  const out = Buffer.allocUnsafe(chosen.length * length);
  chosen.forEach((peer, i) => out.write(peer.address, i * length, 'latin1'));
  return out;
}

export function encodeAnnounce(answer: AnnounceAnswer): Buffer {
  const w = new BencodeWriter().raw('d');
  w.bytes('complete').int(answer.seeders);
  w.bytes('incomplete').int(answer.leechers);
  w.bytes('interval').int(answer.intervalSec);
  w.bytes('min interval').int(answer.minIntervalSec);
  if (answer.compact) {
    w.bytes('peers').buffer(compactPeers(answer.peers, 6));
    // BEP 7: IPv6 peers in their own key, so IPv4-only clients can ignore them.
    w.bytes('peers6').buffer(compactPeers(answer.peers, 18));
  } else {
    // BEP 3 dictionary model: both families in one list, addresses as text.
    w.bytes('peers').raw('l');
    for (const peer of answer.peers) {
      w.raw('d').bytes('ip').text(peerHost(peer.address));
      if (!answer.noPeerId) w.bytes('peer id').bytes(peer.peerId);
      w.bytes('port').int(peerPort(peer.address)).raw('e');
    }
    w.raw('e');
  }
  if (answer.warning !== undefined) w.bytes('warning message').text(answer.warning);
  return w.raw('e').done();
}

/** BEP 48: `files` keyed by raw info-hash, each with complete / downloaded / incomplete. */
export function encodeScrape(
  entries: { infoHash: string; counts: ScrapeCounts }[],
  minIntervalSec: number,
): Buffer {
  const sorted = [...entries].sort((a, b) =>
    Buffer.compare(Buffer.from(a.infoHash, 'latin1'), Buffer.from(b.infoHash, 'latin1')),
  );
  const w = new BencodeWriter().raw('d').bytes('files').raw('d');
  for (const { infoHash, counts } of sorted) {
    w.bytes(infoHash).raw('d');
    w.bytes('complete').int(counts.seeders);
    w.bytes('downloaded').int(counts.completed);
    w.bytes('incomplete').int(counts.leechers);
    w.raw('e');
  }
  w.raw('e');
  w.bytes('flags').raw('d').bytes('min_request_interval').int(minIntervalSec).raw('e');
  return w.raw('e').done();
}

/** BEP 3 refusal; `retry in` (seconds) is the convention libtorrent and opentracker use. */
export function encodeFailure(reason: string, retryInSec?: number): Buffer {
  const w = new BencodeWriter().raw('d').bytes('failure reason').text(reason);
  if (retryInSec !== undefined) w.bytes('retry in').int(retryInSec);
  return w.raw('e').done();
}
