/**
 * BEP 14 Local Service Discovery messages: an HTTP-like datagram multicast
 * on the LAN.
 *
 *   BT-SEARCH * HTTP/1.1\r\n
 *   Host: 239.192.152.143:6771\r\n
 *   Port: 6881\r\n
 *   Infohash: <40 hex>\r\n        (one or more)
 *   cookie: <token>\r\n           (optional: lets a client skip its own messages)
 *   \r\n\r\n
 *
 * Pure, and strict on input: anyone on the segment can send anything, so
 * parsing is bounded (datagram size, line count, info-hash count) and returns
 * null for whatever is not a well-formed announce.
 */

export const LSD_PORT = 6771;
export const LSD_GROUP_V4 = '239.192.152.143';
export const LSD_GROUP_V6 = 'ff15::efc0:988f';

/** A real announce is a few hundred bytes; libtorrent's stay under 1400 (one Ethernet frame). */
export const MAX_LSD_DATAGRAM = 1400;
/** More info-hashes than fit in MAX_LSD_DATAGRAM are impossible anyway; this bounds the work. */
export const MAX_LSD_INFOHASHES = 20;
const MAX_LINES = 40;
const MAX_COOKIE = 64;

export interface LsdAnnounce {
  /** TCP port the announcer accepts peers on. */
  port: number;
  /** Lower-case hex v1 info-hashes, without duplicates. */
  infoHashes: string[];
  /** The sender's cookie, if it sent one. */
  cookie: string | null;
}

/** One announce datagram for `infoHashes` (hex); `ipv6` picks the Host header's group. */
export function encodeLsdAnnounce(options: {
  port: number;
  infoHashes: readonly string[];
  cookie: string;
  ipv6?: boolean;
}): Buffer {
  const host = options.ipv6 ? `[${LSD_GROUP_V6}]:${LSD_PORT}` : `${LSD_GROUP_V4}:${LSD_PORT}`;
  const lines = [
    'BT-SEARCH * HTTP/1.1',
    `Host: ${host}`,
    `Port: ${options.port}`,
    ...options.infoHashes.map((hash) => `Infohash: ${hash}`),
    `cookie: ${options.cookie}`,
  ];
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n\r\n`, 'latin1');
}

/** Parses an announce; null for anything else (never throws). */
export function parseLsdAnnounce(datagram: Uint8Array): LsdAnnounce | null {
  if (datagram.length === 0 || datagram.length > MAX_LSD_DATAGRAM) return null;
  const text = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length).toString(
    'latin1',
  );
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_LINES) return null;
  if (!/^BT-SEARCH \* HTTP\/1\.1$/.test(lines[0]!)) return null;
  let port: number | null = null;
  let cookie: string | null = null;
  const infoHashes: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const match = /^([A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!match) return null;
    const name = match[1]!.toLowerCase();
    const value = match[2]!;
    if (name === 'port') {
      if (port !== null || !/^\d{1,5}$/.test(value)) return null;
      port = Number(value);
      if (port < 1 || port > 65535) return null;
    } else if (name === 'infohash') {
      if (!/^[0-9a-fA-F]{40}$/.test(value)) return null;
      const hash = value.toLowerCase();
      if (!infoHashes.includes(hash)) infoHashes.push(hash);
      if (infoHashes.length > MAX_LSD_INFOHASHES) return null;
    } else if (name === 'cookie') {
      if (value.length > MAX_COOKIE) return null;
      cookie = value;
    }
    // Host and any other header: not needed to find a peer.
  }
  if (port === null || infoHashes.length === 0) return null;
  return { port, infoHashes, cookie };
}
