/**
 * `--transport utp` end to end against python3-libtorrent with TCP turned
 * off on its side (test/helpers/libtorrent_utp_peer.py: enable_outgoing_tcp
 * and enable_incoming_tcp false), so every byte crossed uTP:
 *
 * - `shoal download <info-hash>` from a libtorrent seeder: the metadata and
 *   then the data, compared byte for byte (and the .torrent kept);
 * - libtorrent downloads from `shoal seed --transport utp` (libtorrent dials);
 * - `--transport both` reaches the uTP-only seeder too (which still listens on
 *   TCP, and hangs up on every TCP connection);
 * - through a lossy UDP relay (seeded: 1% loss, 20 ms delay, 10 ms jitter that
 *   reorders) in front of `shoal seed --transport utp`, a download completes
 *   with identical data. (Downloads from libtorrent behind such a relay:
 *   utp-libtorrent-relay.test.ts.)
 *
 * Local service discovery is off everywhere (--no-lsd): a peer found that way
 * would bypass the relay.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, show, spawnTracked, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';
import { startShoalSeeder } from '../helpers/swarm.ts';
import { startUdpRelay, type UdpRelay } from '../helpers/udp-relay.ts';

trackProcesses();
// Whole processes on a shared 2-core machine: generous bounds, never timing assertions.
vi.setConfig({ testTimeout: 150_000, hookTimeout: 120_000 });
cleanupTempDirs();

const UTP_PEER = path.join(import.meta.dirname, '..', 'helpers', 'libtorrent_utp_peer.py');
/** The relay's dice: a failure replays with the same seed (RELAY_SEED=n to try others). */
const RELAY_SEED = Number(process.env.RELAY_SEED ?? 29);

let dataDir: string;
let original: string;
let seeder: { proc: Proc; port: number; infoHash: string };
const relays: UdpRelay[] = [];

/** libtorrent over uTP only, seeding `original` or (downloadTo) downloading it from `connect`. */
async function startUtpLibtorrent(options: { connect?: number; downloadTo?: string } = {}) {
  // Port 0 and the uTP port libtorrent names: a port found free first could be taken before it binds.
  const args = [UTP_PEER, '--data', original, '--port', '0', '--timeout', '120'];
  if (options.connect) args.push('--connect', `127.0.0.1:${options.connect}`);
  if (options.downloadTo) args.push('--download-to', options.downloadTo);
  const proc = spawnTracked('libtorrent utp-only', SYSTEM_PYTHON, args, { timeoutMs: 130_000 });
  const [, infoHash] = await proc.waitFor(/INFO_HASH ([0-9a-f]{40})/, 30_000, 'stdout');
  const [, port] = await proc.waitFor(/LISTENING (\d+)/, 30_000, 'stdout');
  return { proc, port: Number(port), infoHash: infoHash! };
}

describe('--transport utp with python3-libtorrent (its TCP off)', () => {
  requirePeers('libtorrent');
  let savedTorrent: string;

  beforeAll(async () => {
    dataDir = tempDir('shoal-utp-cli-');
    original = path.join(dataDir, 'payload.bin');
    await writeFile(original, randomBytes(2 * 1024 * 1024 + 999));
    seeder = await startUtpLibtorrent();
    await seeder.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    savedTorrent = path.join(dataDir, 'payload.torrent');
  });
  afterAll(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.close()));
  });

  /** `shoal download <info-hash>` from `port` with `flags`; the result and the downloaded file. */
  async function download(port: number, flags: string[]) {
    const out = tempDir('shoal-utp-out-');
    await mkdir(out, { recursive: true });
    const result = await runShoal(
      ['download', seeder.infoHash, '-o', out, '--peer', `127.0.0.1:${port}`].concat([
        '--no-dht',
        '--no-lsd',
        ...flags,
      ]),
      { timeoutMs: 130_000 },
    );
    return { result, file: path.join(out, 'payload.bin') };
  }

  it('shoal downloads metadata and data from a libtorrent uTP-only seeder', async () => {
    const { result, file } = await download(seeder.port, [
      '--transport',
      'utp',
      '--save-torrent',
      savedTorrent,
      '--timeout',
      '60s',
    ]);
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await sameFile(file, original)).toBe(true);
  });

  it('a libtorrent uTP-only downloader gets the data from shoal seed --transport utp', async () => {
    // The torrent shoal kept from libtorrent's metadata in the test before.
    const shoal = await startShoalSeeder(savedTorrent, dataDir, ['--transport', 'utp', '--no-lsd']);
    const save = tempDir('shoal-utp-lt-');
    const leecher = await startUtpLibtorrent({ connect: shoal.port, downloadTo: save });
    await leecher.proc.waitFor(/COMPLETE/, 110_000, 'stdout').catch((error: Error) => {
      throw new Error(`${error.message}\n${shoal.proc.describe()}`);
    });
    expect(await sameFile(path.join(save, 'payload.bin'), original)).toBe(true);
  });

  // libtorrent with incoming TCP off still listens on TCP and hangs up on whoever connects.
  it.each(['prefer', 'off'])(
    '--transport both (the default) reaches the uTP-only seeder, --encryption %s',
    async (encryption) => {
      // A seeder of its own: this one has never seen shoal before.
      const fresh = await startUtpLibtorrent();
      await fresh.proc.waitFor(/SEEDING/, 30_000, 'stdout');
      const { result, file } = await download(fresh.port, [
        '--encryption',
        encryption,
        '--timeout',
        '60s',
      ]);
      expect(result.code, `${show(result)}\n${fresh.proc.describe()}`).toBe(0);
      expect(await sameFile(file, original)).toBe(true);
    },
  );

  it('through a lossy, delaying, reordering relay a download from shoal seed completes intact', async () => {
    const shoal = await startShoalSeeder(savedTorrent, dataDir, ['--transport', 'utp', '--no-lsd']);
    const relay = await startUdpRelay({
      target: { host: '127.0.0.1', port: shoal.port },
      lossRate: 0.01,
      delayMs: 20,
      jitterMs: 10,
      seed: RELAY_SEED,
    });
    relays.push(relay);
    const out = tempDir('shoal-utp-lossy-');
    const result = await runShoal(
      ['download', savedTorrent, '-o', out, '--peer', `127.0.0.1:${relay.port}`].concat([
        '--no-dht',
        '--no-lsd',
        '--transport',
        'utp',
        '--timeout',
        '60s',
      ]),
      { timeoutMs: 130_000 },
    );
    shoal.proc.kill('SIGKILL');
    expect(result.code, `relay seed ${RELAY_SEED}\n${show(result)}`).toBe(0);
    expect(await sameFile(path.join(out, 'payload.bin'), original)).toBe(true);
    expect(relay.stats.dropped).toBeGreaterThan(0);
  });
});
