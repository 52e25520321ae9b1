/**
 * A hybrid (v1 + v2, BEP 52) torrent made by `shoal create --hybrid` (16 KiB
 * pieces), and its two info-hashes as a magnet link names them.
 */
import { expect } from 'vitest';
import { runShoal, show } from './cli.ts';

export interface HybridTorrent {
  /** The v1 info-hash, lower-case hex (`xt=urn:btih:`). */
  btih: string;
  /** The v2 info-hash as a multihash, lower-case hex (`xt=urn:btmh:`, 1220 + 64 digits). */
  btmh: string;
  /** The v2 info-hash cut to 20 bytes, hex: what handshakes, trackers and the DHT carry. */
  v2Wire: string;
}

export async function createHybrid(
  payload: string,
  torrent: string,
  cwd: string,
): Promise<HybridTorrent> {
  const created = await runShoal(
    ['create', payload, '--hybrid', '--piece-length', '16KiB', '-o', torrent, '--json'],
    { cwd, timeoutMs: 60_000 },
  );
  expect(created.code, show(created)).toBe(0);
  const magnet = (JSON.parse(created.stdout) as { magnet: string }).magnet;
  const btih = /xt=urn:btih:([0-9a-f]{40})/i.exec(magnet)?.[1]?.toLowerCase();
  const btmh = /xt=urn:btmh:(1220[0-9a-f]{64})/i.exec(magnet)?.[1]?.toLowerCase();
  expect(btih && btmh, magnet).toBeTruthy();
  return { btih: btih!, btmh: btmh!, v2Wire: btmh!.slice(4, 44) };
}
