/**
 * IPv6 against python3-libtorrent on ::1 (issue #16): libtorrent listens on
 * [::1] only, so every connection below is an IPv6 one.
 * - `shoal download --peer [::1]:PORT` completes from a libtorrent seeder;
 * - a libtorrent downloader completes from `shoal seed` (shoal's listener
 *   takes both stacks);
 * - PEX `added6` both ways: shoal dials a libtorrent seeder it only heard of
 *   in a libtorrent peer's ut_pex, and two libtorrent peers that only know
 *   shoal find each other through shoal's;
 * - a bare `--peer ::1:PORT` is refused with a one-line hint.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { runShoal, spawnShoal, spawnTracked, trackProcesses, type Proc } from '../helpers/cli.ts';
import { cleanupTempDirs, sameFile, tempDir } from '../helpers/files.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';
import { createTorrent, startShoalSeeder, until } from '../helpers/swarm.ts';
import { describeAll } from './libtorrent-swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });
cleanupTempDirs();
requirePeers('libtorrent');

const script = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'helpers',
  'libtorrent_peer.py',
);

interface Lt6Peer {
  proc: Proc;
  /** `[::1]:port` */
  address: string;
}

/** libtorrent_peer.py listening on [::1] only (any free port), once it listens. */
async function startLt6(args: string[], timeoutS = 80): Promise<Lt6Peer> {
  const proc = spawnTracked(
    `libtorrent ${args[0]} [::1]`,
    SYSTEM_PYTHON,
    [script, ...args, '--listen-host', '::1', '--port', '0', '--timeout', String(timeoutS)],
    { timeoutMs: (timeoutS + 10) * 1000 },
  );
  const listening = await proc.waitFor(/LISTENING (\d+)/, 20_000, 'stdout');
  return { proc, address: `[::1]:${listening[1]}` };
}

/** The NDJSON events a shoal run printed. */
function eventsOf(stdout: string): { type: string; peer?: string; peers?: number }[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { type: string; peer?: string; peers?: number });
}

const escape = (text: string) => text.replace(/[[\]]/g, '\\$&');

describe('IPv6 interop with python3-libtorrent on ::1', () => {
  let work: string;
  let seedDir: string;
  let data: string;
  let torrent: string;
  let infoHash: string;

  beforeAll(async () => {
    work = tempDir('shoal-lt6-');
    seedDir = path.join(work, 'seed');
    data = path.join(seedDir, 'data.bin');
    await mkdir(seedDir);
    await writeFile(data, randomBytes(2 * 1024 * 1024));
    const made = await createTorrent(data, path.join(work, 'data.torrent'), [
      '--piece-length',
      '16KiB',
    ]);
    torrent = made.torrent;
    infoHash = made.infoHash!;
  });

  it('shoal download --peer [::1]:PORT completes from a libtorrent seeder', async () => {
    const seeder = await startLt6(['seed', '--torrent', torrent, '--save', seedDir]);
    await seeder.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    const out = tempDir('shoal-lt6-out-');
    const result = await runShoal(
      ['download', torrent, '-o', out, '--peer', seeder.address, '--timeout', '30s', '--events'],
      { cwd: work, timeoutMs: 60_000 },
    );
    const context = `${result.stdout}\n${result.stderr}\n${describeAll(seeder)}`;
    expect(result.code, context).toBe(0);
    expect(await sameFile(data, path.join(out, 'data.bin'))).toBe(true);
    const connected = eventsOf(result.stdout).filter((e) => e.type === 'peer-connected');
    expect(
      connected.map((e) => e.peer),
      context,
    ).toEqual([seeder.address]);
  });

  it('a magnet link with x.pe=[::1]:PORT fetches the metadata and the data over IPv6', async () => {
    const seeder = await startLt6(['seed', '--torrent', torrent, '--save', seedDir]);
    await seeder.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    const out = tempDir('shoal-lt6-magnet-');
    const magnet = `magnet:?xt=urn:btih:${infoHash}&x.pe=${encodeURIComponent(seeder.address)}`;
    const result = await runShoal(
      ['download', magnet, '-o', out, '--no-dht', '--timeout', '30s', '--json'],
      { cwd: work, timeoutMs: 60_000 },
    );
    expect(result.code, `${result.stderr}\n${describeAll(seeder)}`).toBe(0);
    expect(await sameFile(data, path.join(out, 'data.bin'))).toBe(true);
  });

  it('a libtorrent downloader on ::1 completes from shoal seed', async () => {
    const shoal = await startShoalSeeder(torrent, seedDir, [], { cwd: work });
    const leecher = await startLt6(
      [
        'download',
        '--torrent',
        torrent,
        '--save',
        tempDir('shoal-lt6-leech-'),
        '--peer',
        `[::1]:${shoal.port}`,
        '--show-peers',
      ],
      60,
    );
    const result = await leecher.proc.wait(70_000);
    const context = describeAll(leecher, shoal.proc);
    expect(result.code, context).toBe(0);
    expect(result.stdout, context).toContain('SEEDING');
    // The connection libtorrent made went to shoal's IPv6 address.
    expect(result.stdout, context).toMatch(
      new RegExp(`PEER ${escape(`[::1]:${shoal.port}`)} outgoing`),
    );
  });

  it("shoal dials a seeder it only heard of in a libtorrent peer's PEX (added6)", async () => {
    const l2 = await startLt6(['seed', '--torrent', torrent, '--save', seedDir]);
    await l2.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    const l1 = await startLt6([
      'download',
      '--torrent',
      torrent,
      '--save',
      tempDir('shoal-lt6-pex-l1-'),
      '--peer',
      l2.address,
      // Enough for the handshakes, far too little to pass on 2 MiB within the test.
      '--download-limit',
      '2000',
      '--show-peers',
    ]);
    // L1 must already hold L2 when shoal arrives: its first PEX message is the one that counts.
    await l1.proc.waitFor(new RegExp(`PEER ${escape(l2.address)} `), 30_000, 'stdout');

    const out = tempDir('shoal-lt6-pex-out-');
    const shoal = spawnShoal(
      ['download', torrent, '-o', out, '--peer', l1.address, '--timeout', '40s', '--events'],
      { cwd: work, timeoutMs: 70_000 },
    );
    const result = await shoal.exited;
    const context = describeAll(shoal, l1, l2);
    expect(result.code, context).toBe(0);
    expect(await sameFile(data, path.join(out, 'data.bin'))).toBe(true);
    const events = eventsOf(result.stdout);
    expect(
      events.some((e) => e.type === 'pex' && (e.peers ?? 0) >= 1),
      context,
    ).toBe(true);
    // L1's added6 named L2, and we dialled L2's listening address (nobody else had it).
    expect(
      events.some((e) => e.type === 'peer-connected' && e.peer === l2.address),
      context,
    ).toBe(true);
  });

  it("libtorrent peers that only shoal connects find each other through shoal's PEX (added6)", async () => {
    const l2 = await startLt6(['seed', '--torrent', torrent, '--save', seedDir, '--show-peers']);
    await l2.proc.waitFor(/SEEDING/, 30_000, 'stdout');
    // shoal downloads slowly from L2, so it is still connected to it when L3 arrives.
    const shoal = spawnShoal(
      [
        'download',
        torrent,
        '-o',
        tempDir('shoal-lt6-pex-shoal-'),
        '--peer',
        l2.address,
        '--download-limit',
        '32KiB',
        '--timeout',
        '60s',
        '--events',
      ],
      { cwd: work, timeoutMs: 80_000 },
    );
    const listening = await shoal.waitFor(/"type":"listening".*?"port":(\d+)/, 30_000);
    await shoal.waitFor(new RegExp(`"type":"peer-connected".*?"peer":"${escape(l2.address)}"`));

    const l3 = await startLt6(
      [
        'download',
        '--torrent',
        torrent,
        '--save',
        tempDir('shoal-lt6-pex-l3-'),
        '--peer',
        `[::1]:${listening[1]}`,
        '--show-peers',
        // Slow, so it is still downloading (and connected) when the PEX messages come.
        '--download-limit',
        '65536',
      ],
      60,
    );
    // shoal tells each of them about the other: whichever reads its message first dials the
    // other's listening address, having learned it by PEX (shoal is the only peer either was
    // given). Both are proof of shoal's added6; which one wins is a race.
    const l3DialledL2 = new RegExp(`PEER ${escape(l2.address)} pex,outgoing`);
    const l2DialledL3 = new RegExp(`PEER ${escape(l3.address)} pex,outgoing`);
    const context = () => describeAll(l3, shoal, l2);
    await until(
      () => l3DialledL2.test(l3.proc.stdout) || l2DialledL3.test(l2.proc.stdout),
      60_000,
      context,
    );
  });

  it('refuses a bare IPv6 --peer with a one-line hint', async () => {
    const result = await runShoal(
      ['download', torrent, '-o', tempDir('shoal-lt6-bad-'), '--peer', '::1:6881'],
      { cwd: work },
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(
      /^shoal: error: invalid --peer "::1:6881": an IPv6 address goes in brackets, e.g. \[::1\]:6881$/,
    );
  });
});
