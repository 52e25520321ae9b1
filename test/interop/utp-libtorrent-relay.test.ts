/**
 * shoal downloads from python3-libtorrent over uTP only (TCP off on its side,
 * test/helpers/libtorrent_utp_peer.py) through a UDP relay that delays and
 * reorders datagrams (test/helpers/udp-relay.ts, seeded), and the data is
 * byte-identical.
 *
 * This stalled partway (issue #16), two causes together: the data phase
 * dialled the address whose connection it had just adopted from the
 * metadata fetch, and libtorrent ended one of the two ("duplicate peer-id")
 * with a FIN; shoal's uTP stream ended only its readable side on a FIN, so
 * the session kept the dead connection and waited on it. Each fix alone made
 * the download complete again. A stall shows as exit 4 (`--timeout`: no
 * data for 30 s); before the fixes a run stalled for about a minute.
 *
 * Local service discovery is off (--no-lsd): a peer found that way would
 * bypass the relay.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, spawnTracked, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';
import { startUdpRelay, type UdpRelay } from '../helpers/udp-relay.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 150_000, hookTimeout: 120_000 });
cleanupTempDirs();

const UTP_PEER = path.join(import.meta.dirname, '..', 'helpers', 'libtorrent_utp_peer.py');
/** The relay's dice: a failure replays with the same seed (RELAY_SEED=n to try others). */
const RELAY_SEED = Number(process.env.RELAY_SEED ?? 16);

describe('uTP download from a libtorrent uTP-only seeder through a jittery relay', () => {
  requirePeers('libtorrent');
  let original: string;
  const relays: UdpRelay[] = [];

  beforeAll(async () => {
    const dataDir = tempDir('shoal-utp-relay-');
    original = path.join(dataDir, 'payload.bin');
    await writeFile(original, randomBytes(2 * 1024 * 1024 + 999));
  });
  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.close()));
  });

  /** A libtorrent seeder of its own per test: none remembers shoal from a test before. */
  async function startSeeder(): Promise<{ proc: Proc; port: number; infoHash: string }> {
    // Port 0 and the uTP port libtorrent names: a port found free first could be taken before it binds.
    const args = [UTP_PEER, '--data', original, '--port', '0', '--timeout', '140'];
    const proc = spawnTracked('libtorrent utp-only', SYSTEM_PYTHON, args, { timeoutMs: 150_000 });
    const [, infoHash] = await proc.waitFor(/INFO_HASH ([0-9a-f]{40})/, 30_000, 'stdout');
    const [, port] = await proc.waitFor(/LISTENING (\d+)/, 30_000, 'stdout');
    await proc.waitFor(/SEEDING/, 30_000, 'stdout');
    return { proc, port: Number(port), infoHash: infoHash! };
  }

  it.each([
    ['delay and jitter (reordering)', { delayMs: 20, jitterMs: 10 }],
    ['delay, jitter and 1% loss', { delayMs: 20, jitterMs: 10, lossRate: 0.01 }],
  ])('the download completes with identical data: %s', async (_name, network) => {
    const seeder = await startSeeder();
    const relay = await startUdpRelay({
      target: { host: '127.0.0.1', port: seeder.port },
      ...network,
      seed: RELAY_SEED,
    });
    relays.push(relay);
    const out = tempDir('shoal-utp-relay-out-');
    await mkdir(out, { recursive: true });
    // By info-hash: the metadata connection is handed to the data phase, as with a magnet.
    const result = await runShoal(
      ['download', seeder.infoHash, '-o', out, '--peer', `127.0.0.1:${relay.port}`].concat([
        '--no-dht',
        '--no-lsd',
        '--transport',
        'utp',
        '--timeout',
        '30s',
      ]),
      { timeoutMs: 120_000 },
    );
    expect(
      result.code,
      `relay seed ${RELAY_SEED}\n${show(result)}\n${seeder.proc.describe()}`,
    ).toBe(0);
    expect(await sameFile(path.join(out, 'payload.bin'), original)).toBe(true);
  });
});
