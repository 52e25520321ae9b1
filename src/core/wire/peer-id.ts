/**
 * Peer ids: ours in Azureus style (`-SH0100-` + 12 random characters), and a
 * best-effort reading of a remote peer id into a client name for display.
 * A peer id proves nothing (any client can claim any id): use it for display
 * and for spotting our own connections, never for trust decisions.
 */
import { randomBytes } from 'node:crypto';
import { displaySafe } from './display.ts';

export const PEER_ID_LENGTH = 20;

/** shoal's Azureus-style client code. */
export const SHOAL_CLIENT_CODE = 'SH';

/**
 * The 8-byte prefix for a shoal version: `0.1.0` -> `-SH0100-` (one character
 * per component, 0-9 then A-Z for 10-35, as libtorrent does).
 */
export function peerIdPrefix(version: string): string {
  const parts = version.split(/[.+-]/, 3).map((part) => Number.parseInt(part, 10));
  while (parts.length < 3) parts.push(0);
  const chars = parts.map((n) => (Number.isInteger(n) && n >= 0 && n < 36 ? n.toString(36) : '0'));
  return `-${SHOAL_CLIENT_CODE}${chars.join('').toUpperCase()}0-`;
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/**
 * A fresh peer id: the prefix plus 12 random alphanumeric characters.
 * Alphanumeric rather than arbitrary bytes because trackers and peers log and
 * URL-escape peer ids, and some old trackers mangle non-ASCII ones; 12 of 62
 * symbols is still ~71 bits, ample to tell sessions apart.
 */
export function generatePeerId(
  prefix = peerIdPrefix('0.1.0'),
  random: (n: number) => Uint8Array = randomBytes,
): Uint8Array {
  const head = new TextEncoder().encode(prefix);
  if (head.length > PEER_ID_LENGTH) throw new RangeError('peer id prefix longer than 20 bytes');
  const id = new Uint8Array(PEER_ID_LENGTH);
  id.set(head);
  const tail = PEER_ID_LENGTH - head.length;
  // Rejection sampling keeps the characters uniform (256 is not a multiple of 62).
  let filled = 0;
  while (filled < tail) {
    for (const byte of random(tail * 2)) {
      if (byte >= 248) continue;
      id[head.length + filled++] = ALPHABET.charCodeAt(byte % 62);
      if (filled === tail) break;
    }
  }
  return id;
}

export interface PeerClient {
  /** Client name, or null if the id follows no convention we know. */
  client: string | null;
  /** Version as the client spells it, or null. */
  version: string | null;
}

/** Azureus-style client codes (`-XXvvvv-`) worth naming. */
const AZUREUS_CLIENTS: Record<string, string> = {
  LT: 'libtorrent',
  lt: 'rTorrent',
  qB: 'qBittorrent',
  TR: 'Transmission',
  DE: 'Deluge',
  WW: 'WebTorrent',
  WD: 'WebTorrent Desktop',
  UT: 'µTorrent',
  UM: 'µTorrent Mac',
  UW: 'µTorrent Web',
  BC: 'BitComet',
  BT: 'BitTorrent',
  BI: 'BiglyBT',
  AZ: 'Vuze',
  KT: 'KTorrent',
  FD: 'Free Download Manager',
  LR: 'LibreTorrent',
  TX: 'Tixati',
  XL: 'Xunlei',
  SD: 'Xunlei',
  FW: 'FrostWire',
  PI: 'PicoTorrent',
  SH: 'shoal',
};

/** Reads a remote peer id (any length tolerated; 20 expected). */
export function parsePeerId(id: Uint8Array): PeerClient {
  const ascii = latin1(id.subarray(0, 20));

  // aria2: "A2-<major>-<minor>-<patch>-" then random bytes.
  const aria2 = /^A2-(\d{1,3})-(\d{1,3})-(\d{1,3})-/.exec(ascii);
  if (aria2) return { client: 'aria2', version: `${aria2[1]}.${aria2[2]}.${aria2[3]}` };

  // Azureus style: "-XXvvvv-".
  const az = /^-([A-Za-z0-9~]{2})([A-Za-z0-9.]{4})-/.exec(ascii);
  if (az) {
    const code = az[1]!;
    const digits = az[2]!;
    const name = Object.hasOwn(AZUREUS_CLIENTS, code) ? AZUREUS_CLIENTS[code]! : null;
    return { client: name ?? `unknown client ${code}`, version: azureusVersion(code, digits) };
  }

  // Old BitComet: "exbc" + two version bytes.
  if (ascii.startsWith('exbc') && id.length >= 6) {
    return { client: 'BitComet', version: `${id[4]}.${String(id[5]).padStart(2, '0')}` };
  }

  return { client: null, version: null };
}

/** A one-line description for logs and the peer list: "qBittorrent 4.6.3", or a safe fallback. */
export function describePeerId(id: Uint8Array): string {
  const { client, version } = parsePeerId(id);
  if (client !== null) return displaySafe(version ? `${client} ${version}` : client);
  // Unknown: show it as text if it is printable ASCII, else as hex.
  const printable = id.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? `unknown (${latin1(id)})` : `unknown (${hex(id)})`;
}

function azureusVersion(code: string, digits: string): string {
  const d = Array.from(digits, (c) => {
    const n = Number.parseInt(c, 36);
    return Number.isNaN(n) ? 0 : n;
  });
  if (code === 'TR') {
    // Transmission before 4: "-TR2940-" is 2.94 ("Z"/"X" = dev/beta builds).
    // From 4.0: "-TR4060-" is 4.0.6.
    if (d[0]! < 4) {
      const suffix = digits[3] === 'Z' ? '+' : digits[3] === 'X' ? ' beta' : '';
      return `${d[0]}.${digits.slice(1, 3)}${suffix}`;
    }
    return `${d[0]}.${d[1]}.${d[2]}`;
  }
  if (code === 'UT' || code === 'UM' || code === 'UW') {
    // µTorrent: three version digits then a build letter (B = beta).
    return `${d[0]}.${d[1]}.${d[2]}${digits[3] === 'B' ? ' beta' : ''}`;
  }
  const base = `${d[0]}.${d[1]}.${d[2]}`;
  return d[3] === 0 ? base : `${base}.${d[3]}`;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
