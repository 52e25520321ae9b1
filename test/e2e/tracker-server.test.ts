/**
 * `shoal tracker` as a separate process on 127.0.0.1 (and ::1), driven by
 * real clients: aria2c downloads through it from a shoal seeder, libtorrent
 * announces over UDP and HTTP, transmission-daemon announces and scrapes,
 * and opentracker answers the same announces as the reference. Then hostile
 * input: malformed and oversized HTTP requests, UDP datagrams of wrong sizes,
 * forged connection ids, and an announce flood that must stay within caps.
 */
import dgram from 'node:dgram';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeBencode, isBytes, isDict, type BencodeDict } from '../../src/core/bencode/index.ts';
import {
  encodeAnnounceRequest,
  encodeConnectRequest,
  encodeScrapeRequest,
  parseConnectResponse,
} from '../../src/core/tracker/udp-codec.ts';
import {
  runShoal,
  show,
  spawnShoal,
  spawnTracked,
  trackProcesses,
  type Proc,
} from '../helpers/cli.ts';
import { cleanupTempDirs, diffTrees, spanningPayload, tempDir } from '../helpers/files.ts';
import {
  requirePeers,
  startAria2Leecher,
  startLibtorrent,
  startOpentracker,
} from '../helpers/peers.ts';
import { startOnFreePorts } from '../helpers/listening.ts';
import { createTorrent, startShoalSeeder } from '../helpers/swarm.ts';

trackProcesses();
vi.setConfig({ testTimeout: 150_000, hookTimeout: 120_000 });
cleanupTempDirs();

// ---- a raw tracker client ---------------------------------------------------

interface Announce {
  infoHash: string;
  port: number;
  left: number;
  event?: 'started' | 'completed' | 'stopped';
  numWant?: number;
  compact?: boolean;
  peerId?: string;
}

const escapeHex = (hex: string) => hex.replace(/../g, (byte) => `%${byte}`);

function announceQuery(a: Announce): string {
  const peerId =
    a.peerId ?? Buffer.from(`-XX0001-${String(a.port).padStart(12, '0')}`).toString('hex');
  let query = `info_hash=${escapeHex(a.infoHash)}&peer_id=${escapeHex(peerId)}&port=${a.port}&uploaded=0&downloaded=0&left=${a.left}`;
  query += `&compact=${a.compact === false ? 0 : 1}`;
  if (a.event) query += `&event=${a.event}`;
  if (a.numWant !== undefined) query += `&numwant=${a.numWant}`;
  return query;
}

function dict(body: Buffer): BencodeDict {
  const value = decodeBencode(body).value;
  if (!isDict(value)) throw new Error(`not a dictionary: ${body.toString('latin1')}`);
  return value;
}

async function httpGet(url: string): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return Buffer.from(await response.arrayBuffer());
}

async function httpAnnounce(base: string, a: Announce): Promise<BencodeDict> {
  return dict(await httpGet(`${base}/announce?${announceQuery(a)}`));
}

/** Compact peers as "host:port" (IPv4 6-byte or IPv6 18-byte entries). */
function compactList(bytes: Uint8Array | undefined, size: 6 | 18): string[] {
  const out: string[] = [];
  if (!bytes) return out;
  const b = Buffer.from(bytes);
  for (let at = 0; at + size <= b.length; at += size) {
    const host =
      size === 6
        ? [...b.subarray(at, at + 4)].join('.')
        : net.SocketAddress.parse(
            `[${[...Array(8).keys()].map((i) => b.readUInt16BE(at + 2 * i).toString(16)).join(':')}]:1`,
          )!.address;
    out.push(`${host}:${b.readUInt16BE(at + size - 2)}`);
  }
  return out.sort();
}

interface Counts {
  complete: number;
  incomplete: number;
}

function httpCounts(d: BencodeDict): Counts & { peers: string[] } {
  return {
    complete: d['complete'] as number,
    incomplete: d['incomplete'] as number,
    peers: compactList(d['peers'] as Uint8Array, 6),
  };
}

async function httpScrape(base: string, infoHash: string) {
  const d = dict(await httpGet(`${base}/scrape?info_hash=${escapeHex(infoHash)}`));
  const files = d['files'];
  if (!isDict(files)) throw new Error('no files');
  const entry = files[Buffer.from(infoHash, 'hex').toString('latin1')] ?? Object.values(files)[0];
  if (!isDict(entry)) throw new Error('no entry');
  return {
    complete: entry['complete'],
    incomplete: entry['incomplete'],
    downloaded: entry['downloaded'],
  };
}

/** A UDP socket that collects every datagram it receives, with bounded waits for one by transaction id. */
class UdpClient {
  readonly socket: dgram.Socket;
  readonly received: Buffer[] = [];
  #waiters: (() => void)[] = [];
  #tid = 1;
  readonly host: string;
  readonly port: number;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
    this.socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    this.socket.on('message', (message) => {
      this.received.push(message);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  nextTid(): number {
    return this.#tid++;
  }

  send(packet: Uint8Array): void {
    this.socket.send(packet, this.port, this.host);
  }

  /** The answer carrying transaction id `tid`; throws after 10 s. */
  async answer(tid: number): Promise<Buffer> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const found = this.received.find((m) => m.length >= 8 && m.readUInt32BE(4) === tid);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no UDP answer for transaction ${tid}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 500);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async connect(): Promise<bigint> {
    const tid = this.nextTid();
    this.send(encodeConnectRequest(tid));
    return parseConnectResponse(await this.answer(tid), tid);
  }

  async announce(id: bigint, a: Announce): Promise<Buffer> {
    const tid = this.nextTid();
    this.send(
      encodeAnnounceRequest(id, tid, {
        infoHash: Buffer.from(a.infoHash, 'hex'),
        peerId: Buffer.from(`-XX0001-${String(a.port).padStart(12, '0')}`),
        port: a.port,
        uploaded: 0,
        downloaded: 0,
        left: a.left,
        event: a.event,
        numWant: a.numWant,
      }),
    );
    return this.answer(tid);
  }

  async scrape(id: bigint, infoHash: string): Promise<Buffer> {
    const tid = this.nextTid();
    this.send(encodeScrapeRequest(id, tid, [Buffer.from(infoHash, 'hex')]));
    return this.answer(tid);
  }

  close(): void {
    this.socket.close();
  }
}

function udpCounts(answer: Buffer, ipv6 = false): Counts & { action: number; peers: string[] } {
  return {
    action: answer.readUInt32BE(0),
    incomplete: answer.readUInt32BE(12),
    complete: answer.readUInt32BE(16),
    peers: compactList(answer.subarray(20), ipv6 ? 18 : 6),
  };
}

// ---- shoal tracker as a process ---------------------------------------------

interface RunningTracker {
  proc: Proc;
  port: number;
  base: string;
  http: string;
  udp: string;
  stats(): Promise<{ torrents: number; peers: number; seeders: number; rssBytes: number }>;
}

async function startTracker(args: string[], binds = ['127.0.0.1']): Promise<RunningTracker> {
  const proc = spawnShoal(
    ['tracker', '--port', '0', ...binds.flatMap((b) => ['--bind', b]), '--json', ...args],
    { timeoutMs: 140_000 },
  );
  const match = await proc.waitFor(/\{"type":"listening".*\}/, 30_000, 'stdout');
  const line = JSON.parse(match[0]) as { port: number };
  const base = `http://127.0.0.1:${line.port}`;
  return {
    proc,
    port: line.port,
    base,
    http: `${base}/announce`,
    udp: `udp://127.0.0.1:${line.port}/announce`,
    stats: async () => JSON.parse((await httpGet(`${base}/stats`)).toString()),
  };
}

async function whitelistFile(hashes: string[]): Promise<string> {
  const file = path.join(tempDir('shoal-whitelist-'), 'fleet.hashes');
  await writeFile(file, `# fleet\n${hashes.join('\n')}\n`);
  return file;
}

const randomHash = () => randomBytes(20).toString('hex');

// ---- the command line ---------------------------------------------------------

describe('shoal tracker: command line', () => {
  it('refuses to start without --whitelist or --open (exit 2, one line)', async () => {
    const result = await runShoal(['tracker', '--port', '0', '--bind', '127.0.0.1']);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/--whitelist FILE .* or --open/);
  });

  it('names the bad line of a whitelist (exit 3) and a port in use (exit 4)', async () => {
    const dir = tempDir('shoal-whitelist-');
    await writeFile(path.join(dir, 'bad'), `# ok\n${'ab'.repeat(20)}\nnot-a-hash\n`);
    const bad = await runShoal([
      'tracker',
      '--port',
      '0',
      '--bind',
      '127.0.0.1',
      '--whitelist',
      path.join(dir, 'bad'),
    ]);
    expect(bad.code, show(bad)).toBe(3);
    expect(bad.stderr).toMatch(/line 3: "not-a-hash" is not an info-hash/);
    const missing = await runShoal([
      'tracker',
      '--bind',
      '127.0.0.1',
      '--whitelist',
      path.join(dir, 'nope'),
    ]);
    expect(missing.code, show(missing)).toBe(3);

    const tracker = await startTracker(['--open']);
    const busy = await runShoal([
      'tracker',
      '--port',
      String(tracker.port),
      '--bind',
      '127.0.0.1',
      '--open',
    ]);
    expect(busy.code, show(busy)).toBe(4);
    expect(busy.stderr).toMatch(/cannot listen on 127\.0\.0\.1 port \d+: the port is in use/);
    expect(busy.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('prints JSON lines (listening, stats, stopped) and stops on SIGINT and SIGTERM with exit 130', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const tracker = await startTracker(['--open'], ['127.0.0.1', '::1']);
      await tracker.proc.waitFor(/"type":"stats"/, 30_000, 'stdout');
      tracker.proc.kill(signal);
      const result = await tracker.proc.wait(20_000);
      expect(result.code, show(result)).toBe(130);
      const lines = result.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; http?: string[] });
      expect(lines[0]!.type).toBe('listening');
      expect(lines[0]!.http).toEqual([
        `http://127.0.0.1:${tracker.port}/announce`,
        `http://[::1]:${tracker.port}/announce`,
      ]);
      expect(lines.at(-1)!.type).toBe('stopped');
      expect(lines.slice(1, -1).every((l) => l.type === 'stats')).toBe(true);
    }
  });
});

// ---- behaviour against raw announces ----------------------------------------

describe('shoal tracker: announces, scrapes, families, expiry', () => {
  it('refuses an unlisted info-hash: failure reason over HTTP, error action over UDP', async () => {
    const listed = randomHash();
    const tracker = await startTracker(['--whitelist', await whitelistFile([listed])]);
    const refused = await httpAnnounce(tracker.base, {
      infoHash: randomHash(),
      port: 7000,
      left: 1,
    });
    expect(Buffer.from(refused['failure reason'] as Uint8Array).toString()).toMatch(
      /not on this tracker's whitelist/,
    );
    const ok = await httpAnnounce(tracker.base, { infoHash: listed, port: 7000, left: 1 });
    expect(ok['failure reason']).toBeUndefined();
    expect(ok['incomplete']).toBe(1);

    const udp = new UdpClient('127.0.0.1', tracker.port);
    try {
      const id = await udp.connect();
      const answer = await udp.announce(id, { infoHash: randomHash(), port: 7001, left: 1 });
      expect(answer.readUInt32BE(0)).toBe(3);
      expect(answer.subarray(8).toString()).toMatch(/whitelist/);
      expect(
        udpCounts(await udp.announce(id, { infoHash: listed, port: 7001, left: 1 })).incomplete,
      ).toBe(2);
    } finally {
      udp.close();
    }
  });

  it('answers compact and dictionary peer lists, IPv4 and IPv6 apart (BEP 7 peers6, BEP 15 over ::1)', async () => {
    const tracker = await startTracker(['--open'], ['127.0.0.1', '::1']);
    const hash = randomHash();
    const v6base = `http://[::1]:${tracker.port}`;
    await httpAnnounce(v6base, { infoHash: hash, port: 7101, left: 1 });
    await httpAnnounce(tracker.base, { infoHash: hash, port: 7102, left: 0 });
    const compact = await httpAnnounce(tracker.base, { infoHash: hash, port: 7103, left: 1 });
    expect(compactList(compact['peers'] as Uint8Array, 6)).toEqual(['127.0.0.1:7102']);
    expect(compactList(compact['peers6'] as Uint8Array, 18)).toEqual(['::1:7101']);
    expect([
      compact['complete'],
      compact['incomplete'],
      compact['interval'],
      compact['min interval'],
    ]).toEqual([1, 2, 300, 150]);

    const plain = await httpAnnounce(tracker.base, {
      infoHash: hash,
      port: 7103,
      left: 1,
      compact: false,
    });
    const list = (plain['peers'] as BencodeDict[]).map(
      (p) => `${Buffer.from(p['ip'] as Uint8Array).toString()}:${p['port']}`,
    );
    expect(list.sort()).toEqual(['127.0.0.1:7102', '::1:7101']);
    expect(isBytes((plain['peers'] as BencodeDict[])[0]!['peer id'])).toBe(true);

    const udp6 = new UdpClient('::1', tracker.port);
    const udp4 = new UdpClient('127.0.0.1', tracker.port);
    try {
      const six = udpCounts(
        await udp6.announce(await udp6.connect(), { infoHash: hash, port: 7104, left: 1 }),
        true,
      );
      expect(six.peers).toEqual(['::1:7101']);
      const four = udpCounts(
        await udp4.announce(await udp4.connect(), { infoHash: hash, port: 7105, left: 1 }),
      );
      expect(four.peers).toEqual(['127.0.0.1:7102', '127.0.0.1:7103']);
      expect([four.complete, four.incomplete]).toEqual([1, 4]);
    } finally {
      udp6.close();
      udp4.close();
    }
  });

  it('forgets peers that stop announcing (3 intervals) and honours numwant', async () => {
    const tracker = await startTracker(['--open', '--interval', '1s']);
    const hash = randomHash();
    for (let port = 7200; port < 7230; port++)
      await httpAnnounce(tracker.base, { infoHash: hash, port, left: 1 });
    const some = await httpAnnounce(tracker.base, {
      infoHash: hash,
      port: 7200,
      left: 1,
      numWant: 7,
    });
    expect(compactList(some['peers'] as Uint8Array, 6)).toHaveLength(7);
    expect((await tracker.stats()).peers).toBe(30);
    expect(await statsOnceExpired(tracker)).toMatchObject({ peers: 0, torrents: 0 });
  });
});

/** The tracker's stats once every peer has expired (or after 30 s, for the caller to fail on). */
async function statsOnceExpired(tracker: RunningTracker) {
  const deadline = Date.now() + 30_000;
  let stats = await tracker.stats();
  while (stats.peers > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    stats = await tracker.stats();
  }
  return stats;
}

// ---- opentracker as the reference --------------------------------------------

describe('shoal tracker answers like opentracker', () => {
  requirePeers('opentracker');

  /** The same announces to a tracker over HTTP; returns what the last announcer and a scrape see. */
  async function httpScript(base: string, hash: string) {
    await httpAnnounce(base, { infoHash: hash, port: 10001, left: 100, event: 'started' });
    await httpAnnounce(base, { infoHash: hash, port: 10002, left: 0, event: 'started' });
    await httpAnnounce(base, { infoHash: hash, port: 10003, left: 100, event: 'started' });
    await httpAnnounce(base, { infoHash: hash, port: 10003, left: 0, event: 'completed' });
    await httpAnnounce(base, { infoHash: hash, port: 10001, left: 100, event: 'stopped' });
    const last = httpCounts(
      await httpAnnounce(base, { infoHash: hash, port: 10004, left: 50, numWant: 50 }),
    );
    // opentracker hands the announcer its own address back; compare the others.
    last.peers = last.peers.filter((p) => p !== '127.0.0.1:10004');
    return { last, scrape: await httpScrape(base, hash) };
  }

  async function udpScript(host: string, port: number, hash: string) {
    const udp = new UdpClient(host, port);
    try {
      const id = await udp.connect();
      await udp.announce(id, { infoHash: hash, port: 11001, left: 100, event: 'started' });
      await udp.announce(id, { infoHash: hash, port: 11002, left: 0, event: 'started' });
      await udp.announce(id, { infoHash: hash, port: 11003, left: 100, event: 'started' });
      await udp.announce(id, { infoHash: hash, port: 11003, left: 0, event: 'completed' });
      await udp.announce(id, { infoHash: hash, port: 11001, left: 100, event: 'stopped' });
      const last = udpCounts(
        await udp.announce(id, { infoHash: hash, port: 11004, left: 50, numWant: 50 }),
      );
      last.peers = last.peers.filter((p) => p !== '127.0.0.1:11004');
      const scraped = await udp.scrape(id, hash);
      const scrape = {
        complete: scraped.readUInt32BE(8),
        downloaded: scraped.readUInt32BE(12),
        incomplete: scraped.readUInt32BE(16),
      };
      return { last, scrape };
    } finally {
      udp.close();
    }
  }

  it('same peers and counts for the same HTTP and UDP announces, same scrape', async () => {
    const [httpHash, udpHash] = [randomHash(), randomHash()];
    const reference = await startOpentracker([httpHash, udpHash]);
    const shoal = await startTracker(['--whitelist', await whitelistFile([httpHash, udpHash])]);

    const expectedHttp = await httpScript(`http://127.0.0.1:${reference.port}`, httpHash);
    const gotHttp = await httpScript(shoal.base, httpHash);
    expect(expectedHttp.last.peers).toEqual(['127.0.0.1:10002', '127.0.0.1:10003']);
    expect(gotHttp).toEqual(expectedHttp);
    expect(gotHttp.scrape).toEqual({ complete: 2, incomplete: 1, downloaded: 1 });

    const expectedUdp = await udpScript('127.0.0.1', reference.port, udpHash);
    const gotUdp = await udpScript('127.0.0.1', shoal.port, udpHash);
    expect(expectedUdp.last.peers).toEqual(['127.0.0.1:11002', '127.0.0.1:11003']);
    expect({ ...gotUdp, last: { ...gotUdp.last } }).toEqual(expectedUdp);
  });
});

// ---- the completed count outlives the swarm ------------------------------------

describe('shoal tracker keeps a torrent’s completed count after its peers leave', () => {
  requirePeers('opentracker');

  /** A runner's first two announces: it starts, downloads, and says `completed`. */
  async function httpRunner(base: string, infoHash: string, port: number) {
    await httpAnnounce(base, { infoHash, port, left: 100, event: 'started' });
    await httpAnnounce(base, { infoHash, port, left: 0, event: 'completed' });
  }
  async function udpRunner(udp: UdpClient, id: bigint, infoHash: string, port: number) {
    await udp.announce(id, { infoHash, port, left: 100, event: 'started' });
    await udp.announce(id, { infoHash, port, left: 0, event: 'completed' });
  }
  const udpScrapeCounts = async (udp: UdpClient, id: bigint, hash: string) => {
    const scraped = await udp.scrape(id, hash);
    return {
      complete: scraped.readUInt32BE(8),
      downloaded: scraped.readUInt32BE(12),
      incomplete: scraped.readUInt32BE(16),
    };
  };

  /**
   * A fleet in miniature, then everybody leaves: the publisher seeds, two runners
   * download and say `completed`, the runners stop, the publisher stops. The scrape
   * after that is what `--seed-until 'completed>=2'` polls.
   */
  async function httpFleet(base: string, infoHash: string) {
    await httpAnnounce(base, { infoHash, port: 12001, left: 0, event: 'started' });
    for (const port of [12002, 12003]) await httpRunner(base, infoHash, port);
    for (const port of [12002, 12003, 12001])
      await httpAnnounce(base, { infoHash, port, left: 0, event: 'stopped' });
    return httpScrape(base, infoHash);
  }

  async function udpFleet(trackerPort: number, infoHash: string) {
    const udp = new UdpClient('127.0.0.1', trackerPort);
    try {
      const id = await udp.connect();
      await udp.announce(id, { infoHash, port: 13001, left: 0, event: 'started' });
      for (const port of [13002, 13003]) await udpRunner(udp, id, infoHash, port);
      for (const port of [13002, 13003, 13001])
        await udp.announce(id, { infoHash, port, left: 0, event: 'stopped' });
      return await udpScrapeCounts(udp, id, infoHash);
    } finally {
      udp.close();
    }
  }

  const everyoneLeft = { complete: 0, incomplete: 0, downloaded: 2 };

  it('after the last peer stops, over HTTP and UDP, with --open and --whitelist, as opentracker does', async () => {
    const hashes = [randomHash(), randomHash()];
    const reference = await startOpentracker(hashes);
    expect(await httpFleet(`http://127.0.0.1:${reference.port}`, hashes[0]!)).toEqual(everyoneLeft);
    expect(await udpFleet(reference.port, hashes[1]!)).toEqual(everyoneLeft);

    const open = await startTracker(['--open']);
    expect(await httpFleet(open.base, hashes[0]!)).toEqual(everyoneLeft);
    expect(await udpFleet(open.port, hashes[1]!)).toEqual(everyoneLeft);
    // Nothing but the counters is left of the two torrents.
    expect(await open.stats()).toMatchObject({ torrents: 0, peers: 0 });

    const listed = await startTracker(['--whitelist', await whitelistFile(hashes)]);
    expect(await httpFleet(listed.base, hashes[0]!)).toEqual(everyoneLeft);
    expect(await udpFleet(listed.port, hashes[1]!)).toEqual(everyoneLeft);
  });

  it('after the peers expire without a stop, and counts on when the torrent comes back', async () => {
    const tracker = await startTracker(['--open', '--interval', '1s']);
    const hash = randomHash();
    const udp = new UdpClient('127.0.0.1', tracker.port);
    try {
      const id = await udp.connect();
      // One runner over HTTP, one over UDP; neither says goodbye.
      await httpRunner(tracker.base, hash, 14001);
      await udpRunner(udp, id, hash, 14002);
      expect(await statsOnceExpired(tracker)).toMatchObject({ peers: 0, torrents: 0 });
      expect(await httpScrape(tracker.base, hash)).toEqual(everyoneLeft);
      expect(await udpScrapeCounts(udp, id, hash)).toEqual(everyoneLeft);

      // A third runner later: the torrent is live again and the count goes on from 2.
      await httpRunner(tracker.base, hash, 14003);
      expect(await httpScrape(tracker.base, hash)).toEqual({
        complete: 1,
        incomplete: 0,
        downloaded: 3,
      });
    } finally {
      udp.close();
    }
  });
});

// ---- real clients ----------------------------------------------------------------

describe('real clients through shoal tracker', () => {
  requirePeers('aria2c', 'libtorrent');
  let work: string;
  let payload: string;
  let seedParent: string;

  beforeAll(async () => {
    ({ work, payload, seedParent } = await spanningPayload('shoal-tracker-server-'));
  });

  /** Torrents of the payload announcing to `announce`; all share one info-hash. */
  async function torrentFor(name: string, announce: string[]) {
    return createTorrent(
      payload,
      path.join(work, `${name}.torrent`),
      ['--piece-length', '16KiB', ...announce.flatMap((url) => ['-a', url])],
      { cwd: work },
    );
  }

  it('aria2c downloads from a shoal seeder it learned of only through the tracker (HTTP)', async () => {
    const probe = await torrentFor('probe', []);
    const tracker = await startTracker(['--whitelist', await whitelistFile([probe.infoHash!])]);
    const torrent = await torrentFor('aria2', [tracker.http]);
    const seeder = await startShoalSeeder(torrent.torrent, seedParent, [], { cwd: work });
    // The seeder announced itself before aria2c starts.
    const deadline = Date.now() + 30_000;
    while ((await tracker.stats()).seeders < 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await tracker.stats()).seeders, seeder.proc.describe()).toBe(1);

    const out = path.join(work, 'aria2-out');
    const leecher = await startAria2Leecher(torrent.torrent, out);
    const result = await leecher.proc.wait(100_000);
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
    // aria2c left with `stopped` (it sends no `completed` when it does not seed on): the seeder remains.
    expect(await httpScrape(tracker.base, probe.infoHash!)).toMatchObject({
      complete: 1,
      incomplete: 0,
    });
  });

  it('libtorrent seeds over UDP and downloads over HTTP through it (peer source: tracker)', async () => {
    const probe = await torrentFor('lt-probe', []);
    const tracker = await startTracker(['--whitelist', await whitelistFile([probe.infoHash!])]);
    const udpTorrent = await torrentFor('lt-udp', [tracker.udp]);
    const httpTorrent = await torrentFor('lt-http', [tracker.http]);
    const seeder = await startLibtorrent({
      mode: 'seed',
      torrent: udpTorrent.torrent,
      save: seedParent,
    });
    const deadline = Date.now() + 60_000;
    while ((await tracker.stats()).seeders < 1 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await tracker.stats()).seeders, seeder.proc.describe()).toBe(1);

    const out = path.join(work, 'lt-out');
    await mkdir(out, { recursive: true });
    const downloader = await startLibtorrent({
      mode: 'download',
      torrent: httpTorrent.torrent,
      save: out,
    });
    const result = await downloader.proc.wait(100_000);
    expect(result.code, show(result)).toBe(0);
    expect(await diffTrees(payload, path.join(out, 'payload'))).toEqual([]);
  });
});

describe('transmission announces and scrapes', () => {
  it('transmission-daemon is counted by announce and sees the counts in its scrape', async () => {
    for (const tool of ['/usr/bin/transmission-daemon', '/usr/bin/transmission-remote'])
      if (!existsSync(tool))
        throw new Error(`${tool} not installed: run scripts/install-test-peers.sh`);
    const { work, payload } = await spanningPayload('shoal-tracker-transmission-');
    const probe = await createTorrent(
      payload,
      path.join(work, 'probe.torrent'),
      ['--piece-length', '16KiB'],
      { cwd: work },
    );
    const tracker = await startTracker(['--whitelist', await whitelistFile([probe.infoHash!])]);
    const torrent = await createTorrent(
      payload,
      path.join(work, 't.torrent'),
      ['--piece-length', '16KiB', '-a', tracker.http],
      { cwd: work },
    );
    // Two peers already in the swarm: one seeder, one leecher (raw announces).
    await httpAnnounce(tracker.base, { infoHash: probe.infoHash!, port: 7301, left: 0 });
    await httpAnnounce(tracker.base, { infoHash: probe.infoHash!, port: 7302, left: 5 });

    const config = path.join(work, 'transmission');
    await mkdir(config, { recursive: true });
    await writeFile(
      path.join(config, 'settings.json'),
      JSON.stringify({
        'bind-address-ipv4': '127.0.0.1',
        'bind-address-ipv6': '::1',
        'rpc-bind-address': '127.0.0.1',
        'rpc-authentication-required': false,
        'rpc-whitelist-enabled': false,
        'dht-enabled': false,
        'lpd-enabled': false,
        'pex-enabled': false,
        'utp-enabled': false,
        'port-forwarding-enabled': false,
        'download-dir': path.join(work, 'transmission-out'),
        'start-added-torrents': true,
      }),
    );
    // Its ports on the command line: it cannot report ports it picks, and runs on when one was taken.
    const {
      ports: [rpcPort, peerPort],
    } = await startOnFreePorts(
      2,
      ([rpc, peer]) =>
        spawnTracked(
          'transmission-daemon',
          '/usr/bin/transmission-daemon',
          ['-f', '-g', config, '-p', String(rpc), '-P', String(peer)],
          { timeoutMs: 140_000 },
        ),
      { failedBind: /Couldn't bind port|Unable to bind/, timeoutMs: 30_000 },
    );
    const remote = (...args: string[]) =>
      execFileSync('/usr/bin/transmission-remote', [`127.0.0.1:${rpcPort}`, ...args], {
        encoding: 'utf8',
        timeout: 10_000,
      });
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        remote('-a', torrent.torrent);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
    // Its announce puts it in the swarm under its peer port...
    let peers: string[] = [];
    while (!peers.includes(`127.0.0.1:${peerPort}`) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const seen = await httpAnnounce(tracker.base, {
        infoHash: probe.infoHash!,
        port: 7302,
        left: 5,
      });
      peers = compactList(seen['peers'] as Uint8Array, 6);
    }
    expect(peers).toContain(`127.0.0.1:${peerPort}`);
    // ...and its scrape reads the tracker's counts: 1 seeder, 2 leechers (itself and 7302).
    let info = '';
    while (!/Tracker had 1 seeders and 2 leechers/.test(info) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      info = remote('-t', '1', '-it');
    }
    expect(info).toMatch(/Tracker had 1 seeders and 2 leechers/);
  });
});

// ---- hostile input ------------------------------------------------------------------

describe('shoal tracker under hostile input', () => {
  it('answers malformed and oversized HTTP requests with a failure or an HTTP error, and keeps serving', async () => {
    const tracker = await startTracker(['--open']);
    const hash = randomHash();
    const good = announceQuery({ infoHash: hash, port: 7400, left: 1 });
    const malformed = [
      '',
      'info_hash=%zz',
      'info_hash=%41%41&peer_id=x&port=1',
      good.replace('port=7400', 'port=0'),
      good.replace('port=7400', 'port=70000'),
      good.replace('port=7400', 'port=-1'),
      good.replace('left=1', 'left=1e9'),
      good.replace('left=1', 'left=99999999999999999999'),
      `${good}&event=bogus`,
      `${good}&port=6881`,
      good.replace(/peer_id=[^&]*/, 'peer_id=%00'),
      `${good}&numwant=-5`,
      'info_hash=\u00ff',
      '&&&===&&',
    ];
    for (const query of malformed) {
      const body = await httpGet(`${tracker.base}/announce?${query}`);
      expect(Buffer.from(dict(body)['failure reason'] as Uint8Array).toString(), query).toMatch(
        /^bad request: /,
      );
    }
    expect(dict(await httpGet(`${tracker.base}/scrape`))['failure reason']).toBeDefined();
    // 101 percent-encoded hashes: within the request size limit, over the count limit.
    const tooMany = Array.from({ length: 101 }, () => `info_hash=${escapeHex(randomHash())}`).join(
      '&',
    );
    expect(
      dict(await httpGet(`${tracker.base}/scrape?${tooMany}`))['failure reason'],
    ).toBeDefined();

    // An oversized request line or header block is refused by status, not by a crash.
    const longUrl = await fetch(`${tracker.base}/announce?${good}&x=${'a'.repeat(20_000)}`);
    expect([414, 431]).toContain(longUrl.status);
    const bigHeader = await rawHttp(
      tracker.port,
      `GET /announce?${good} HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`,
    );
    expect(bigHeader).toMatch(/^HTTP\/1\.1 4\d\d/);
    expect(await rawHttp(tracker.port, 'NOT HTTP AT ALL\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect((await fetch(`${tracker.base}/announce`, { method: 'POST', body: 'x' })).status).toBe(
      405,
    );
    expect((await fetch(`${tracker.base}/nothing`)).status).toBe(404);

    // Still serving, and none of that entered the registry.
    expect(
      httpCounts(await httpAnnounce(tracker.base, { infoHash: hash, port: 7400, left: 1 }))
        .incomplete,
    ).toBe(1);
    expect((await tracker.stats()).peers).toBe(1);
  });

  it('drops UDP junk and forged connection ids without answering; a bad body with a valid id gets the error action', async () => {
    const tracker = await startTracker(['--open']);
    const udp = new UdpClient('127.0.0.1', tracker.port);
    try {
      const hash = randomHash();
      // Wrong sizes and junk: no answer (each checked by a valid request answered right after).
      const junk = [
        Buffer.alloc(0),
        Buffer.alloc(1),
        Buffer.alloc(15),
        randomBytes(16),
        randomBytes(98),
        randomBytes(2000),
      ];
      // A connect must carry the protocol constant.
      const badConnect = Buffer.from(encodeConnectRequest(99));
      badConnect[0] ^= 1;
      junk.push(badConnect);
      const id = await udp.connect();
      // Forged ids: the constant (what bittorrent-tracker accepts), zero, a near miss.
      for (const forged of [0x41727101980n, 0n, id ^ 1n]) {
        junk.push(
          Buffer.from(
            encodeAnnounceRequest(forged, 500, {
              infoHash: Buffer.from(hash, 'hex'),
              peerId: Buffer.alloc(20, 1),
              port: 7500,
              uploaded: 0,
              downloaded: 0,
              left: 1,
            }),
          ),
        );
        junk.push(Buffer.from(encodeScrapeRequest(forged, 501, [Buffer.from(hash, 'hex')])));
      }
      for (const packet of junk) udp.send(packet);
      // Datagrams are answered in order: any answer to the junk would arrive before this one.
      await udp.connect();
      expect(udp.received.map((m) => [m.readUInt32BE(0), m.readUInt32BE(4)])).toEqual([
        [0, 1],
        [0, 2],
      ]);

      // Valid id, malformed bodies: the BEP 15 error action (3) with a reason.
      const short = Buffer.from(
        encodeAnnounceRequest(id, 600, {
          infoHash: Buffer.from(hash, 'hex'),
          peerId: Buffer.alloc(20, 1),
          port: 7500,
          uploaded: 0,
          downloaded: 0,
          left: 1,
        }),
      ).subarray(0, 60);
      udp.send(short);
      const shortAnswer = await udp.answer(600);
      expect([shortAnswer.readUInt32BE(0), shortAnswer.subarray(8).toString()]).toEqual([
        3,
        'announce too short',
      ]);
      const oddScrape = Buffer.concat([
        Buffer.from(encodeScrapeRequest(id, 601, [Buffer.from(hash, 'hex')])),
        Buffer.alloc(7),
      ]);
      udp.send(oddScrape);
      expect((await udp.answer(601)).readUInt32BE(0)).toBe(3);
      const badEvent = Buffer.from(
        encodeAnnounceRequest(id, 602, {
          infoHash: Buffer.from(hash, 'hex'),
          peerId: Buffer.alloc(20, 1),
          port: 7500,
          uploaded: 0,
          downloaded: 0,
          left: 1,
        }),
      );
      badEvent.writeUInt32BE(9, 80);
      udp.send(badEvent);
      expect((await udp.answer(602)).readUInt32BE(0)).toBe(3);
      expect((await tracker.stats()).peers).toBe(0);
    } finally {
      udp.close();
    }
  });

  it('an announce flood of random info-hashes under --open stays within the caps', async () => {
    const tracker = await startTracker([
      '--open',
      '--max-torrents',
      '300',
      '--max-peers',
      '1000',
      '--max-peers-per-torrent',
      '5',
    ]);
    const udp = new UdpClient('127.0.0.1', tracker.port);
    try {
      // 500 HTTP announces into ten torrents: each fills to its cap of 5 peers.
      const hot = Array.from({ length: 10 }, randomHash);
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            httpAnnounce(tracker.base, {
              infoHash: hot[i % 10]!,
              port: 30_000 + batch * 50 + i,
              left: 1,
            }),
          ),
        );
      }
      // Then 4000 UDP announces, each a new torrent, 100 at a time: only 290 more fit.
      for (let batch = 0; batch < 40; batch++) {
        // A connection id lives 1-2 minutes (BEP 15) and the tracker drops announces with an
        // expired one unanswered; on a loaded machine the flood outlasts that, so each batch
        // connects first, as a client does after a minute.
        const id = await udp.connect();
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            udp.announce(id, { infoHash: randomHash(), port: 20_000 + batch * 100 + i, left: 1 }),
          ),
        );
      }
      for (const hash of hot)
        expect(await httpScrape(tracker.base, hash)).toMatchObject({ incomplete: 5 });
      const stats = await tracker.stats();
      console.log(
        `tracker after the flood: ${JSON.stringify(stats)} (RSS ${(stats.rssBytes / 2 ** 20).toFixed(1)} MiB)`,
      );
      expect(stats).toMatchObject({ torrents: 300, peers: 10 * 5 + 290 });
      // A full tracker still answers, and says why the newcomer is not listed.
      const late = await httpAnnounce(tracker.base, {
        infoHash: randomHash(),
        port: 40_000,
        left: 1,
      });
      expect(Buffer.from(late['warning message'] as Uint8Array).toString()).toMatch(
        /tracker is full/,
      );
    } finally {
      udp.close();
    }
  });
});

/** Sends raw bytes over TCP and returns what comes back before the server closes (or 10 s). */
function rawHttp(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n\r\n')) socket.end();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
    socket.write(request);
  });
}
