/**
 * Torrents whose trackers are the weapon: thousands of tiers (each a host the
 * torrent's author chose), trackers that fail, and HTTP trackers that
 * redirect in loops or to other hosts. Each test runs the real CLI against
 * fake trackers on 127.0.0.1 that count what reaches them, and a real shoal
 * seeder that only the good tracker knows about.
 *
 * Observed, never timed: how many announces were open at once (each fake
 * counts a request in when it arrives and out when it answers), which
 * trackers were asked and in what order, and whether the download finished.
 */
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBencode, encodeBencode, isDict } from '../../src/core/bencode/index.ts';
import { MAX_CONCURRENT_STOPS, MAX_TRACKERS } from '../../src/core/tracker/announcer.ts';
import { runShoal, show, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';

trackProcesses();
cleanupTempDirs();

/** Announces open at once across every fake tracker of a test. */
class Gauge {
  now = 0;
  max = 0;
  enter(): void {
    this.max = Math.max(this.max, ++this.now);
  }
  leave(): void {
    this.now--;
  }
}

/** One contact with a fake tracker: which tracker, and its place in the order of arrivals. */
interface Contact {
  tracker: string;
  arrived: number;
  answered: number;
}

let clock = 0;
const tick = () => ++clock;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** Compact IPv4 peer: 127.0.0.1 and a port. */
function compactPeer(port: number): Uint8Array {
  const peer = Buffer.from([127, 0, 0, 1, 0, 0]);
  peer.writeUInt16BE(port, 4);
  return peer;
}

/**
 * An HTTP server playing many trackers, one per path: `/fail/N` answers a
 * failure reason after a short wait, `/good` answers with `peers`,
 * `/loop` redirects to itself, `/to/URL` redirects to URL.
 */
async function startHttpTrackers(gauge: Gauge, contacts: Contact[], host = '127.0.0.1') {
  const sockets = new Set<Socket>();
  const state: { peers: Uint8Array } = { peers: new Uint8Array(0) };
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const route = url.split('?')[0];
    const contact: Contact = { tracker: `http${route}`, arrived: tick(), answered: 0 };
    contacts.push(contact);
    gauge.enter();
    let open = true;
    const answer = (status: number, body: Uint8Array | string, headers = {}) => {
      if (!open) return;
      open = false;
      gauge.leave();
      contact.answered = tick();
      res.writeHead(status, headers);
      res.end(body);
    };
    res.on('close', () => {
      if (open) gauge.leave();
      open = false;
    });
    const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
    if (route.startsWith('/fail/')) {
      const timer = setTimeout(
        () => answer(200, encodeBencode({ 'failure reason': 'go away' })),
        20,
      );
      res.on('close', () => clearTimeout(timer));
    } else if (route === '/good') {
      answer(200, encodeBencode({ interval: 1800, peers: state.peers }));
    } else if (route === '/loop') {
      answer(302, '', { Location: `/loop${query}` });
    } else if (route.startsWith('/to/')) {
      answer(302, '', { Location: `${decodeURIComponent(route.slice(4))}${query}` });
    } else answer(404, 'no such tracker');
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return { state, base: `http://${hostInUrl}:${port}`, port };
}

/**
 * A UDP tracker (BEP 15) that accepts the connect and refuses the announce
 * with an error after a short wait: a fast, certain failure.
 */
async function startRefusingUdpTracker(gauge: Gauge, contacts: Contact[], name: string) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, remote) => {
    if (message.length < 16) return;
    const action = message.readUInt32BE(8);
    const txid = message.readUInt32BE(12);
    const contact: Contact = { tracker: name, arrived: tick(), answered: 0 };
    contacts.push(contact);
    gauge.enter();
    setTimeout(() => {
      gauge.leave();
      contact.answered = tick();
      const reply =
        action === 0
          ? Buffer.alloc(16)
          : Buffer.concat([Buffer.alloc(8), Buffer.from('not tracked here')]);
      reply.writeUInt32BE(action === 0 ? 0 : 3, 0);
      reply.writeUInt32BE(txid, 4);
      if (action === 0) reply.writeBigUInt64BE(0x0102030405060708n, 8);
      socket.send(reply, remote.port, remote.address);
    }, 10);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return `udp://127.0.0.1:${socket.address().port}/announce`;
}

/**
 * A payload, a tracker-less .torrent for the seeder, and a function that
 * writes the same torrent (same info-hash) with the given tiers.
 */
async function payloadAndTorrent(work: string) {
  const data = path.join(work, 'seed', 'payload.bin');
  await mkdir(path.dirname(data), { recursive: true });
  const bytes = randomBytes(300 * 1024);
  await writeFile(data, bytes);
  const plain = path.join(work, 'plain.torrent');
  const created = await runShoal(['create', data, '-o', plain, '--force', '--no-date']);
  expect(created.code, show(created)).toBe(0);
  const withTiers = async (tiers: string[][]): Promise<string> => {
    const { value } = decodeBencode(await readFile(plain));
    if (!isDict(value)) throw new Error('created torrent is not a dictionary');
    const file = path.join(work, 'tiers.torrent');
    await writeFile(file, encodeBencode({ ...value, 'announce-list': tiers }));
    return file;
  };
  return { bytes, plain, seedDir: path.dirname(data), withTiers };
}

/** A shoal seeder that no tracker is told about; resolves with its port. */
async function startSeeder(torrent: string, dir: string): Promise<number> {
  const seeder = spawnShoal(['seed', torrent, '-d', dir, '--port', '0'], { timeoutMs: 120_000 });
  return Number((await seeder.waitFor(/listening on port (\d+)/, 30_000, 'stderr'))[1]);
}

describe('hostile trackers', () => {
  it('walks tiers in order, one announce at a time, and downloads through a good tracker placed late', async () => {
    const work = tempDir('shoal-hostile-tiers-');
    const gauge = new Gauge();
    const contacts: Contact[] = [];
    const trackers = await startHttpTrackers(gauge, contacts);
    const { bytes, plain, seedDir, withTiers } = await payloadAndTorrent(work);
    trackers.state.peers = compactPeer(await startSeeder(plain, seedDir));

    // 60 failing tiers (every third a UDP tracker), the good one, then 100 that must
    // never be asked: the walk stops at the good one, and they are past the cap anyway.
    const failing: string[] = [];
    for (let i = 0; i < 60; i++) {
      failing.push(
        i % 3 === 0
          ? await startRefusingUdpTracker(gauge, contacts, `udp${i}`)
          : `${trackers.base}/fail/${i}`,
      );
    }
    const late = Array.from({ length: 100 }, (_, i) => `${trackers.base}/fail/late${i}`);
    const tiers = [
      ...failing.map((url) => [url]),
      [`${trackers.base}/good`],
      ...late.map((u) => [u]),
    ];
    const torrent = await withTiers(tiers);

    const out = path.join(work, 'out');
    const result = await runShoal(['download', torrent, '-o', out, '--timeout', '60s'], {
      timeoutMs: 120_000,
    });
    expect(result.code, show(result)).toBe(0);
    expect((await readFile(path.join(out, 'payload.bin'))).equals(bytes)).toBe(true);

    const names = failing.map((url, i) => (url.startsWith('udp:') ? `udp${i}` : `http/fail/${i}`));
    const firstContact = new Map<string, Contact>();
    for (const contact of contacts) {
      if (!firstContact.has(contact.tracker)) firstContact.set(contact.tracker, contact);
    }
    // Every failing tier was asked, each only after the one before it had answered.
    for (let i = 1; i < names.length; i++) {
      const first = firstContact.get(names[i]);
      expect(first, `tier ${i} was never asked`).toBeDefined();
      expect(first!.arrived).toBeGreaterThan(firstContact.get(names[i - 1])!.answered);
    }
    expect(firstContact.get('http/good')!.arrived).toBeGreaterThan(
      firstContact.get(names.at(-1)!)!.answered,
    );
    // Tiers after the good tracker: never asked.
    expect(contacts.filter((c) => c.tracker.startsWith('http/fail/late'))).toEqual([]);
    // One announce in flight at a time while walking; at exit, a few `stopped` at once.
    expect(gauge.max).toBeLessThanOrEqual(1 + MAX_CONCURRENT_STOPS);
    console.log(`tiers walked: ${firstContact.size} trackers asked, at most ${gauge.max} at once`);
  }, 150_000);

  it('a torrent of 25 000 tiers makes shoal contact at most MAX_TRACKERS of them', async () => {
    const work = tempDir('shoal-hostile-many-tiers-');
    const gauge = new Gauge();
    const contacts: Contact[] = [];
    const trackers = await startHttpTrackers(gauge, contacts);
    const udp = await startRefusingUdpTracker(gauge, contacts, 'udp');
    const { withTiers } = await payloadAndTorrent(work);
    // Distinct URLs (so none is a duplicate of another), all to local fakes.
    const tiers = Array.from({ length: 25_000 }, (_, i) =>
      i % 2 === 0 ? [`${udp}?n=${i}`] : [`${trackers.base}/fail/${i}`],
    );
    const torrent = await withTiers(tiers);
    const result = await runShoal(
      ['download', torrent, '-o', path.join(work, 'out'), '--timeout', '8s'],
      { timeoutMs: 120_000 },
    );
    // Nobody has the data: the download gives up (exit 4) after walking the trackers it uses.
    expect(result.code, show(result)).toBe(4);
    expect(result.stderr).toContain(`using the first ${MAX_TRACKERS} trackers; 24936 more ignored`);
    // Each UDP tracker costs a connect and an announce; count trackers, not datagrams.
    const httpAsked = new Set(
      contacts.filter((c) => c.tracker.startsWith('http')).map((c) => c.tracker),
    );
    const udpConnects = contacts.filter((c) => c.tracker === 'udp').length / 2;
    expect(httpAsked.size + udpConnects).toBeLessThanOrEqual(MAX_TRACKERS);
    expect(gauge.max).toBeLessThanOrEqual(1 + MAX_CONCURRENT_STOPS);
    console.log(
      `25 000 tiers: ${httpAsked.size} HTTP and ${udpConnects} UDP trackers asked, at most ${gauge.max} at once`,
    );
  }, 150_000);

  it('follows a local tracker that redirects to another by hostname, and ends a redirect loop with a clear error', async () => {
    const work = tempDir('shoal-hostile-redirect-');
    const gauge = new Gauge();
    const contacts: Contact[] = [];
    // The second tracker listens where `localhost` resolves here: reached only by resolving it.
    const local = await lookup('localhost');
    const first = await startHttpTrackers(gauge, contacts);
    const second = await startHttpTrackers(gauge, contacts, local.address);
    const { bytes, plain, seedDir, withTiers } = await payloadAndTorrent(work);
    second.state.peers = compactPeer(await startSeeder(plain, seedDir));
    const viaName = `http://localhost:${second.port}/good`;
    const torrent = await withTiers([
      [`${first.base}/loop`],
      [`${first.base}/to/${encodeURIComponent(viaName)}`],
    ]);
    const out = path.join(work, 'out');
    const result = await runShoal(['download', torrent, '-o', out, '--timeout', '60s'], {
      timeoutMs: 120_000,
    });
    expect(result.code, show(result)).toBe(0);
    expect((await readFile(path.join(out, 'payload.bin'))).equals(bytes)).toBe(true);
    // The loop (it redirects to itself): one request, its redirect back to a URL already
    // asked is not followed, and a one-line warning says so.
    const beforeGood = contacts.slice(
      0,
      contacts.findIndex((c) => c.tracker === 'http/good'),
    );
    expect(beforeGood.filter((c) => c.tracker === 'http/loop')).toHaveLength(1);
    expect(result.stderr).toMatch(
      /tracker http:\/\/127\.0\.0\.1:\d+\/loop: redirect loop at http:\/\/127\.0\.0\.1:\d+\/loop/,
    );
  }, 150_000);
});
