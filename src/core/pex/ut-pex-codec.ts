/**
 * BEP 11 peer exchange (ut_pex): the payload of an `extended` message whose
 * id is the one a peer assigned to `ut_pex`. A bencoded dictionary of
 * compact peer lists: `added` (+ one flag byte per peer in `added.f`),
 * `added6` (+ `added6.f`), `dropped`, `dropped6`.
 *
 * Pure codec. Incoming messages are hostile: the payload is size-capped and
 * decoded under tight limits, each list is truncated to MAX_PEX_PEERS, and
 * unusable addresses (port 0, 0.0.0.0/8, multicast, broadcast, ::, IPv6
 * link-local) are dropped by the shared peer parser (net/). IPv4 peers go in
 * `added`/`dropped`, IPv6 ones in `added6`/`dropped6`.
 */
import {
  decodeBencode,
  encodeBencode,
  isBytes,
  isDict,
  type BencodeValue,
} from '../bencode/index.ts';
import { parseCompactPeers4, parseCompactPeers6 } from '../net/compact-peers.ts';
import { addressBytes, validPort } from '../net/peer-address.ts';
import { WireProtocolError } from '../wire/errors.ts';

/** Extension name in the BEP 10 `m` dictionary. */
export const UT_PEX = 'ut_pex';
/** Most peers taken from one list of a message (BEP 11 asks senders for at most 50). */
export const MAX_PEX_PEERS = 200;
/** What we put in one message (BEP 11: "up to 50 added and 50 dropped"). */
export const PEX_SEND_LIMIT = 50;
/** 4 lists of 200 IPv6 entries are ~15 KiB; anything far larger is not PEX. */
export const MAX_PEX_PAYLOAD = 64 * 1024;

/** BEP 11 `added.f` flag bits. */
export const PexFlag = {
  prefersEncryption: 0x01,
  /** Seed or partial seed (upload only). */
  seed: 0x02,
  supportsUtp: 0x04,
  supportsHolepunch: 0x08,
  /** We reached it with an outgoing connection, so it accepts incoming ones. */
  reachable: 0x10,
} as const;

export interface PexPeer {
  host: string;
  port: number;
  /** `added.f` flags (PexFlag bits); 0 when unknown. */
  flags: number;
}

export interface PexAddress {
  host: string;
  port: number;
}

export interface PexMessage {
  added: PexPeer[];
  dropped: PexAddress[];
}

/**
 * Encodes a PEX message. Addresses that have no compact form others could
 * dial are left out: a peer connected from an IPv6 link-local address
 * (`fe80::1%eth0`, its zone meaningless anywhere else) is a real peer of
 * ours but not news for anyone. Callers keep to PEX_SEND_LIMIT per list
 * (PexState does).
 */
export function encodePex(message: PexMessage): Uint8Array {
  const added4: Uint8Array[] = [];
  const flags4: number[] = [];
  const added6: Uint8Array[] = [];
  const flags6: number[] = [];
  for (const peer of message.added) {
    const bytes = compactPeerOrNull(peer);
    if (bytes === null) continue;
    if (bytes.length === 6) {
      added4.push(bytes);
      flags4.push(peer.flags & 0xff);
    } else {
      added6.push(bytes);
      flags6.push(peer.flags & 0xff);
    }
  }
  const dropped4: Uint8Array[] = [];
  const dropped6: Uint8Array[] = [];
  for (const peer of message.dropped) {
    const bytes = compactPeerOrNull(peer);
    if (bytes !== null) (bytes.length === 6 ? dropped4 : dropped6).push(bytes);
  }
  const dict = new Map<string, Uint8Array>([
    ['added', concat(added4)],
    ['added.f', Uint8Array.from(flags4)],
    ['dropped', concat(dropped4)],
  ]);
  // IPv6 keys only when there is something to say: older clients choke on nothing, but why send it.
  if (added6.length > 0) {
    dict.set('added6', concat(added6));
    dict.set('added6.f', Uint8Array.from(flags6));
  }
  if (dropped6.length > 0) dict.set('dropped6', concat(dropped6));
  return encodeBencode(dict);
}

/**
 * Decodes a PEX payload. Throws WireProtocolError ('bad-extension') when it
 * is oversized, malformed or not a dictionary; a list of the wrong type is
 * ignored, a trailing partial entry is skipped, and each list is cut to
 * `maxPeers`. Missing flags read as 0.
 */
export function decodePex(payload: Uint8Array, maxPeers = MAX_PEX_PEERS): PexMessage {
  if (payload.length > MAX_PEX_PAYLOAD) {
    throw new WireProtocolError(
      'bad-extension',
      `ut_pex message is ${payload.length} bytes, limit ${MAX_PEX_PAYLOAD}`,
    );
  }
  let value: BencodeValue;
  try {
    // Some clients append padding after the dictionary; it carries nothing we read.
    value = decodeBencode(payload, {
      limits: { maxDepth: 4, maxTokens: 256 },
      allowTrailing: true,
    }).value;
  } catch (error) {
    throw new WireProtocolError(
      'bad-extension',
      `malformed ut_pex message: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!isDict(value))
    throw new WireProtocolError('bad-extension', 'ut_pex message is not a dictionary');

  const added: PexPeer[] = [];
  for (const [key, flagKey, parse, entry] of [
    ['added', 'added.f', parseCompactPeers4, 6],
    ['added6', 'added6.f', parseCompactPeers6, 18],
  ] as const) {
    const list = bytesField(value, key);
    if (!list) continue;
    const flags = bytesField(value, flagKey);
    // Flags go by entry position, so parse entries one at a time (unusable ones are skipped).
    let taken = 0;
    for (let at = 0, i = 0; at + entry <= list.length && taken < maxPeers; at += entry, i++) {
      const [peer] = parse(list.subarray(at, at + entry), 0, 1);
      if (!peer) continue;
      added.push({ host: peer.host, port: peer.port, flags: flags?.[i] ?? 0 });
      taken++;
    }
  }
  const dropped: PexAddress[] = [];
  const dropped4 = bytesField(value, 'dropped');
  if (dropped4) dropped.push(...parseCompactPeers4(dropped4, 0, maxPeers));
  const dropped6 = bytesField(value, 'dropped6');
  if (dropped6) dropped.push(...parseCompactPeers6(dropped6, 0, maxPeers));
  return { added, dropped };
}

/** `host:port` (`[v6]:port`): the same key PeerConnection uses for a peer. */
export function addressKeyOf(peer: PexAddress): string {
  return peer.host.includes(':') ? `[${peer.host}]:${peer.port}` : `${peer.host}:${peer.port}`;
}

/** Compact form of an IPv4 (6 bytes) or IPv6 (18 bytes) address and port. */
export function compactPeer(peer: PexAddress): Uint8Array {
  const bytes = compactPeerOrNull(peer);
  if (!bytes) throw new RangeError(`not a usable peer address: ${peer.host}:${peer.port}`);
  return bytes;
}

/** compactPeer, or null for an address others cannot dial (see validatePeer). */
function compactPeerOrNull(peer: PexAddress): Uint8Array | null {
  const address = addressBytes(peer.host);
  if (!address || !validPort(peer.port)) return null;
  const out = new Uint8Array(address.length + 2);
  out.set(address, 0);
  out[address.length] = peer.port >> 8;
  out[address.length + 1] = peer.port & 0xff;
  return out;
}

function bytesField(dict: Record<string, BencodeValue>, key: string): Uint8Array | undefined {
  const value = Object.hasOwn(dict, key) ? dict[key] : undefined;
  return isBytes(value) ? value : undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
