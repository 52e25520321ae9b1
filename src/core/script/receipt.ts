/**
 * The download receipt (`--receipt FILE`, schema `shoal-receipt/1`, see
 * docs/RECEIPT.md): what was fetched, from whom, and the SHA-256 of every
 * selected file as it lies on disk after verification. Written by the one
 * rule for output files (storage/output-file.ts): whole or not at all, and
 * an existing file only with --force.
 */
import { toHex } from '../metainfo/index.ts';
import type { Metainfo } from '../metainfo/types.ts';
import { writeOutputFile } from '../storage/output-file.ts';

export const RECEIPT_SCHEMA = 'shoal-receipt/1';

export interface ReceiptFile {
  /** As `shoal inspect --json` writes it: sanitized components joined by '/'. */
  path: string;
  length: number;
  sha256: string;
}

export interface ReceiptPeer {
  /** `host:port` (IPv6 in brackets). */
  address: string;
  /** The client it named in its handshake (BEP 10 `v`), or its peer-id prefix. */
  client: string;
  /** Payload bytes received from it (always more than 0: only peers that supplied data are listed). */
  bytes: number;
}

export interface Receipt {
  schema: typeof RECEIPT_SCHEMA;
  name: string;
  /** v1 info-hash, hex (null for a pure v2 torrent). */
  infoHash: string | null;
  /** v2 info-hash, hex (null for a v1 torrent). */
  infoHashV2: string | null;
  files: ReceiptFile[];
  bytes: { peers: number; webSeeds: number };
  peers: ReceiptPeer[];
  /** ISO 8601, UTC. */
  startedAt: string;
  endedAt: string;
  /** `shoal/VERSION`. */
  tool: string;
}

/** Writes the receipt as pretty JSON (one file, readable in a CI log). */
export async function writeReceipt(path: string, receipt: Receipt, force: boolean): Promise<void> {
  const text = `${JSON.stringify(receipt, null, 2)}\n`;
  await writeOutputFile(path, new TextEncoder().encode(text), force);
}

/** The receipt of a finished download. */
export function buildReceipt(input: {
  meta: Pick<Metainfo, 'name' | 'infoHash' | 'infoHashV2'>;
  files: ReceiptFile[];
  peerBytes: number;
  webSeedBytes: number;
  /** Peers met in the run: address (the session's peer key) to client name. */
  peers: ReadonlyMap<string, string>;
  /** Payload bytes received per peer key (absent: 0). */
  bytesByPeer: ReadonlyMap<string, number>;
  startedAt: Date;
  endedAt: Date;
  version: string;
}): Receipt {
  const { meta } = input;
  return {
    schema: RECEIPT_SCHEMA,
    name: meta.name,
    infoHash: meta.infoHash ? toHex(meta.infoHash) : null,
    infoHashV2: meta.infoHashV2 ? toHex(meta.infoHashV2) : null,
    files: input.files,
    bytes: { peers: input.peerBytes, webSeeds: input.webSeedBytes },
    // The peers that supplied data: one met but never sending a byte is not part of the record.
    peers: [...input.peers]
      .map(([address, client]) => ({ address, client, bytes: input.bytesByPeer.get(address) ?? 0 }))
      .filter((peer) => peer.bytes > 0),
    startedAt: input.startedAt.toISOString(),
    endedAt: input.endedAt.toISOString(),
    tool: `shoal/${input.version}`,
  };
}
