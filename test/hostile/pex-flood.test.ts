/**
 * Issue #15 item 9: a peer flooding ut_pex. Attackers connect to a shoal
 * download and send PEX messages as fast as TCP carries them, each naming
 * 200 addresses never seen before (closed ports on 127.x.y.z: loopback, so
 * the dials they provoke stay on this machine, and the attackers are on
 * loopback themselves, which is what lets such addresses through at all).
 * shoal must take one message per connection (BEP 11: one a minute), at most
 * 50 addresses from it, and however often attackers reconnect, keep its
 * candidate list at MAX_CANDIDATES, and still finish the download from the
 * honest seeder. Peak RSS is printed, bounded only for sanity. Observed from
 * outside: `--events` progress lines carry `knownPeers` (the candidate count)
 * and a `pex` line for every message whose addresses were taken.
 */
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_EXTENSION_IDS } from '../../src/core/metadata/fetch-metadata.ts';
import { encodePex, UT_PEX, type PexPeer } from '../../src/core/pex/index.ts';
import { MAX_CANDIDATES } from '../../src/core/session/torrent-session.ts';
import { encodeExtendedHandshake } from '../../src/core/wire/extension.ts';
import { encodeHandshake, makeReserved } from '../../src/core/wire/handshake.ts';
import { encodeMessage } from '../../src/core/wire/messages.ts';
import { show, spawnShoal, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { createTorrent, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });
cleanupTempDirs();

/** Addresses in each flood message (decodePex's ceiling). */
const ADDRESSES_PER_MESSAGE = 200;

const sockets = new Set<net.Socket>();
afterEach(() => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
});

/** Attacker `n`'s connection `round`, message `m`: 127.(n+1).round.1-200, port 20000+m, all distinct. */
function floodMessage(n: number, round: number, m: number): Uint8Array {
  const added: PexPeer[] = [];
  for (let i = 1; i <= ADDRESSES_PER_MESSAGE; i++)
    added.push({ host: `127.${n + 1}.${round}.${i}`, port: 20_000 + m, flags: 0 });
  const payload = encodePex({ added, dropped: [] });
  return encodeMessage({ type: 'extended', id: LOCAL_EXTENSION_IDS[UT_PEX], payload });
}

/**
 * One attacker connection: handshake, extended handshake, `messages` PEX
 * messages as fast as shoal reads them, then it hangs up. Resolves once closed.
 */
async function attack(
  port: number,
  infoHash: Uint8Array,
  n: number,
  round: number,
  messages: number,
): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.add(socket);
  socket.on('error', () => {});
  socket.on('data', () => {}); // read and drop whatever shoal says
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const write = async (bytes: Uint8Array) => {
    if (socket.write(bytes)) return;
    // Until shoal reads more, or closes the connection (it exited, or dropped us).
    await new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  };
  await write(
    encodeHandshake({
      reserved: makeReserved({ extensionProtocol: true, fastExtension: true }),
      infoHash,
      peerId: Buffer.concat([Buffer.from('-FL0001-'), randomBytes(12)]),
    }),
  );
  const handshake = encodeExtendedHandshake({ m: { [UT_PEX]: 7 }, v: 'pex flooder' });
  await write(encodeMessage({ type: 'extended', id: 0, payload: handshake }));
  for (let m = 0; m < messages && !socket.destroyed; m++) await write(floodMessage(n, round, m));
  if (socket.destroyed) return; // shoal hung up first
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.end();
  });
}

/** Attacker `n`: connects again and again (each time a new connection to shoal) while `running()`. */
async function attacker(
  port: number,
  infoHash: Uint8Array,
  n: number,
  plan: { rounds: number; messages: number },
  running: () => boolean,
): Promise<number> {
  let connections = 0;
  for (let round = 0; round < plan.rounds && running(); round++) {
    connections++;
    await attack(port, infoHash, n, round, plan.messages).catch(() => {});
  }
  return connections;
}

/** Peak resident memory of a running process (Linux: VmHWM), sampled until it exits. */
function samplePeakRss(proc: Proc): () => number {
  let peak = 0;
  const sample = () => {
    try {
      const status = readFileSync(`/proc/${proc.pid}/status`, 'utf8');
      const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
      peak = Math.max(peak, kib * 1024);
    } catch {
      // exited
    }
  };
  const timer = setInterval(sample, 200);
  void proc.exited.finally(() => clearInterval(timer));
  return () => {
    sample();
    return peak;
  };
}

interface Observed {
  maxKnownPeers: number;
  pexMessagesTaken: number;
}

function observe(stdout: string): Observed {
  let maxKnownPeers = 0;
  let pexMessagesTaken = 0;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { type: string; knownPeers?: number };
    if (event.type === 'progress') maxKnownPeers = Math.max(maxKnownPeers, event.knownPeers ?? 0);
    if (event.type === 'pex') pexMessagesTaken++;
  }
  return { maxKnownPeers, pexMessagesTaken };
}

describe('a PEX flood', () => {
  let work: string;
  let data: string;
  let torrent: string;
  let infoHash: Uint8Array;

  beforeAll(async () => {
    work = tempDir('shoal-pex-flood-');
    data = path.join(work, 'seed', 'data.bin');
    await mkdir(path.dirname(data));
    await writeFile(data, randomBytes(4 * 1024 * 1024));
    const made = await createTorrent(data, path.join(work, 'data.torrent'), [
      '--piece-length',
      '64KiB',
    ]);
    torrent = made.torrent;
    infoHash = Buffer.from(made.infoHash!, 'hex');
  });

  /** Downloads from an honest shoal seeder while `attackers` flood as `plan` says; returns what was seen. */
  async function downloadUnderFlood(
    attackers: number,
    plan: { rounds: number; messages: number },
    label: string,
  ) {
    const seeder = await startShoalSeeder(torrent, path.dirname(data), [], { cwd: work });
    const out = tempDir('shoal-pex-flood-out-');
    const downloader = spawnShoal(
      [
        'download',
        torrent,
        '-o',
        out,
        '--peer',
        `127.0.0.1:${seeder.port}`,
        // Port 0 and the port shoal names: a port found free first could be taken before it binds.
        '--port',
        '0',
        // Slow enough that the flood lands while the download runs.
        '--download-limit',
        '512KiB',
        '--timeout',
        '40s',
        '--events',
      ],
      { cwd: work, timeoutMs: 80_000 },
    );
    const peakRss = samplePeakRss(downloader);
    const port = Number(
      (await downloader.waitFor(/"type":"listening"[^\n]*?"port":(\d+)/, 30_000, 'stdout'))[1],
    );
    const attacks = Array.from({ length: attackers }, (_, n) =>
      attacker(port, infoHash, n, plan, () => downloader.running),
    );
    const result = await downloader.exited;
    const connections = (await Promise.all(attacks)).reduce((a, b) => a + b, 0);
    const rss = peakRss();
    const seen = { ...observe(result.stdout), connections };
    console.log(
      `pex flood (${label}): ${connections} connection(s), ${plan.messages} messages of ` +
        `${ADDRESSES_PER_MESSAGE} addresses each; shoal took ${seen.pexMessagesTaken} message(s), ` +
        `at most ${seen.maxKnownPeers} candidates; peak RSS ${(rss / 2 ** 20).toFixed(1)} MiB`,
    );
    expect(result.code, `${show(result)}\n${seeder.proc.describe()}`).toBe(0);
    expect(await sameFile(data, path.join(out, 'data.bin'))).toBe(true);
    // A sanity bound only (the engine alone needs well under this): no memory blow-up.
    expect(rss).toBeLessThan(1024 * 2 ** 20);
    return seen;
  }

  it('from one connection: one message is taken, at most 50 of its addresses', async () => {
    const seen = await downloadUnderFlood(1, { rounds: 1, messages: 300 }, 'one connection');
    expect(seen.pexMessagesTaken).toBe(1);
    // The seeder, plus at most 50 from the one message taken.
    expect(seen.maxKnownPeers).toBeGreaterThan(1);
    expect(seen.maxKnownPeers).toBeLessThanOrEqual(1 + 50);
  });

  it('from 45 attackers reconnecting: the candidate list fills to its cap and no further', async () => {
    const seen = await downloadUnderFlood(45, { rounds: 100, messages: 5 }, '45 reconnecting');
    // Each connection gets one message in at most (BEP 11: one a minute)...
    expect(seen.pexMessagesTaken).toBeLessThanOrEqual(seen.connections);
    // ...but fresh connections bring fresh addresses: only the cap on candidates stops them.
    expect(seen.pexMessagesTaken).toBeGreaterThan(MAX_CANDIDATES / 50);
    expect(seen.maxKnownPeers).toBe(MAX_CANDIDATES);
  });
});
