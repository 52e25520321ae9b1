/**
 * `tracker`: announces per second and memory for 100 000 peers, shoal tracker
 * against opentracker, side by side in one run (and bittorrent-tracker too
 * when BENCH_BITTORRENT_TRACKER names an installed copy of the package, e.g.
 * /tmp/bt/node_modules/bittorrent-tracker; it is not a dependency of shoal).
 *
 * Each tracker runs alone on 127.0.0.1 while this process drives it over UDP
 * (BEP 15), 512 requests in flight, lost datagrams re-sent after 1 s:
 *   fill      100 000 `started` announces: 100 torrents x 1 000 peers (peer = address + port)
 *   again     the same 100 000 peers announce again (the steady state of a swarm)
 *   http      20 000 HTTP announces on kept-alive connections, 64 in flight
 * Memory is the tracker's resident set read from /proc after `fill`, and its
 * growth over the idle process. The load generator shares the machine's
 * cores, so the rates are a floor for every tracker alike.
 *
 * Standalone: node_modules/.bin/node bench/tracker.ts [--quick]
 */
import dgram from 'node:dgram';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  NODE24,
  fmt,
  freePort,
  log,
  markdownTable,
  primaryShoal,
  waitForTcp,
  writeResults,
  type Context,
} from './lib/common.ts';
import { Proc, killAll, sleep } from './lib/procs.ts';

const TORRENTS = 100;
const PEERS_PER_TORRENT = 1000;
const WINDOW = 512;
const HTTP_ANNOUNCES = 20_000;
const HTTP_WINDOW = 64;

interface Tracker {
  label: string;
  proc: Proc;
  port: number;
}

interface TrackerResult {
  tracker: string;
  fillPerSecond: number;
  againPerSecond: number;
  httpPerSecond: number;
  idleRssMiB: number | null;
  rssMiB: number | null;
  peakRssMiB: number | null;
  resent: number;
  errors: number;
}

const hashes = Array.from({ length: TORRENTS }, (_, i) => {
  const hash = Buffer.alloc(20, 0x5a);
  hash.writeUInt32BE(i + 1, 0);
  return hash;
});

async function rssMiB(proc: Proc): Promise<number | null> {
  const pid = await proc.innerPid();
  if (pid === null) return null;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kib ? Number(kib) / 1024 : null;
}

async function startShoal(ctx: Context): Promise<Tracker> {
  const port = await freePort(true);
  const build = primaryShoal();
  const whitelist = path.join(ctx.scratch, 'tracker-whitelist');
  await writeFile(whitelist, hashes.map((h) => `${h.toString('hex')}\n`).join(''));
  const proc = new Proc(build.cmd, [
    ...build.args,
    'tracker',
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--whitelist',
    whitelist,
    '--quiet',
  ]);
  await waitForTcp(port, 30_000);
  return { label: build.label.replace(/^shoal/, 'shoal tracker'), proc, port };
}

async function startOpentracker(ctx: Context): Promise<Tracker> {
  const port = await freePort(true);
  const dir = path.join(ctx.scratch, 'opentracker');
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  await writeFile(
    path.join(dir, 'whitelist'),
    hashes.map((h) => `${h.toString('hex')}\n`).join(''),
    { mode: 0o644 },
  );
  // As root it chroots into -d before reading the whitelist.
  const whitelist = process.getuid?.() === 0 ? '/whitelist' : path.join(dir, 'whitelist');
  const proc = new Proc(
    '/usr/bin/opentracker',
    ['-i', '127.0.0.1', '-p', String(port), '-P', String(port), '-d', dir, '-w', whitelist],
    { cwd: dir },
  );
  await waitForTcp(port, 10_000);
  // It loads the whitelist in the background: wait until an announce is accepted.
  const client = new UdpLoad(port);
  try {
    const deadline = Date.now() + 10_000;
    while ((await client.probe(hashes[0]!)) !== 1) {
      if (Date.now() > deadline) throw new Error('opentracker never accepted the whitelist');
      await sleep(100);
    }
  } finally {
    client.close();
  }
  return { label: 'opentracker', proc, port };
}

async function startBittorrentTracker(dir: string): Promise<Tracker> {
  const port = await freePort(true);
  const script = `import Server from ${JSON.stringify(path.join(dir, 'server.js'))};
const server = new Server({ ws: false, stats: false });
server.on('warning', () => {});
server.listen(${port}, { http: '127.0.0.1', udp: '127.0.0.1', udp6: '::1' });`;
  const proc = new Proc(NODE24, ['--input-type=module', '-e', script]);
  await waitForTcp(port, 30_000);
  return { label: 'bittorrent-tracker', proc, port };
}

/** A UDP announce load: one socket, a window of requests in flight, re-sends after 1 s. */
class UdpLoad {
  readonly #socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  readonly #port: number;
  #tid = 0;
  readonly #pending = new Map<
    number,
    { packet: Buffer; sentAt: number; done: (b: Buffer) => void }
  >();
  resent = 0;

  constructor(port: number) {
    this.#port = port;
    this.#socket.on('message', (message) => {
      if (message.length < 8) return;
      const tid = message.readUInt32BE(4);
      const pending = this.#pending.get(tid);
      if (!pending) return;
      this.#pending.delete(tid);
      pending.done(message);
    });
  }

  request(build: (tid: number) => Buffer): Promise<Buffer> {
    const tid = (this.#tid = (this.#tid + 1) >>> 0);
    const packet = build(tid);
    return new Promise((done) => {
      this.#pending.set(tid, { packet, sentAt: Date.now(), done });
      this.#socket.send(packet, this.#port, '127.0.0.1');
    });
  }

  resendOld(): void {
    const now = Date.now();
    for (const pending of this.#pending.values()) {
      if (now - pending.sentAt < 1000) continue;
      pending.sentAt = now;
      this.resent++;
      this.#socket.send(pending.packet, this.#port, '127.0.0.1');
    }
  }

  async connect(): Promise<bigint> {
    const answer = await this.request((tid) => {
      const packet = Buffer.alloc(16);
      packet.writeBigUInt64BE(0x41727101980n, 0);
      packet.writeUInt32BE(0, 8);
      packet.writeUInt32BE(tid, 12);
      return packet;
    });
    return answer.readBigUInt64BE(8);
  }

  announce(id: bigint, hash: Buffer, port: number, event: number): Promise<Buffer> {
    return this.request((tid) => {
      const packet = Buffer.alloc(98);
      packet.writeBigUInt64BE(id, 0);
      packet.writeUInt32BE(1, 8);
      packet.writeUInt32BE(tid, 12);
      hash.copy(packet, 16);
      packet.write(`-BN0001-${String(port).padStart(12, '0')}`, 36, 'latin1');
      packet.writeBigUInt64BE(1000n, 64); // left: a leecher
      packet.writeUInt32BE(event, 80);
      packet.writeInt32BE(50, 92);
      packet.writeUInt16BE(port, 96);
      return packet;
    });
  }

  /** The action of the answer to one announce (1 = announce, 3 = error). */
  async probe(hash: Buffer): Promise<number> {
    const timeout = sleep(1000).then(() => -1);
    const answer = this.connect().then((id) => this.announce(id, hash, 9, 0));
    const result = await Promise.race([answer.then((a) => a.readUInt32BE(0)), timeout]);
    return result;
  }

  close(): void {
    this.#socket.close();
  }
}

/** Runs `total` jobs with `window` in flight; returns jobs per second. */
async function paced(
  total: number,
  window: number,
  job: (i: number) => Promise<void>,
  tick?: () => void,
): Promise<number> {
  const started = performance.now();
  let next = 0;
  const timer = tick ? setInterval(tick, 200) : null;
  const worker = async () => {
    while (next < total) await job(next++);
  };
  await Promise.all(Array.from({ length: window }, worker));
  if (timer) clearInterval(timer);
  return total / ((performance.now() - started) / 1000);
}

async function measureTracker(tracker: Tracker, ctx: Context): Promise<TrackerResult> {
  const perTorrent = ctx.quick ? PEERS_PER_TORRENT / 10 : PEERS_PER_TORRENT;
  const total = TORRENTS * perTorrent;
  const idleRssMiB = await rssMiB(tracker.proc);
  const load = new UdpLoad(tracker.port);
  let errors = 0;
  try {
    let id = await load.connect();
    let idAt = Date.now();
    const announceAll = (event: number) =>
      paced(
        total,
        WINDOW,
        async (i) => {
          // Connection ids live a minute or two: ask for a fresh one every 30 s.
          if (Date.now() - idAt > 30_000) {
            idAt = Date.now();
            id = await load.connect();
          }
          const answer = await load.announce(
            id,
            hashes[i % TORRENTS]!,
            1 + Math.floor(i / TORRENTS),
            event,
          );
          if (answer.readUInt32BE(0) !== 1) errors++;
        },
        () => load.resendOld(),
      );
    log(`${tracker.label}: ${total} started announces`);
    const fillPerSecond = await announceAll(2);
    const rss = await rssMiB(tracker.proc);
    log(`${tracker.label}: ${total} regular announces`);
    const againPerSecond = await announceAll(0);

    const httpTotal = ctx.quick ? HTTP_ANNOUNCES / 10 : HTTP_ANNOUNCES;
    log(`${tracker.label}: ${httpTotal} HTTP announces`);
    const escape = (bytes: Buffer) =>
      [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
    const httpPerSecond = await paced(httpTotal, HTTP_WINDOW, async (i) => {
      const hash = hashes[i % TORRENTS]!;
      const port = 1 + Math.floor(i / TORRENTS);
      const url = `http://127.0.0.1:${tracker.port}/announce?info_hash=${escape(hash)}&peer_id=${escape(Buffer.from(`-BN0001-${String(port).padStart(12, '0')}`))}&port=${port}&uploaded=0&downloaded=0&left=1000&compact=1&numwant=50`;
      const body = Buffer.from(await (await fetch(url)).arrayBuffer());
      if (body.includes('failure reason')) errors++;
    });
    return {
      tracker: tracker.label,
      fillPerSecond,
      againPerSecond,
      httpPerSecond,
      idleRssMiB,
      rssMiB: rss,
      peakRssMiB: null,
      resent: load.resent,
      errors,
    };
  } finally {
    load.close();
  }
}

export async function benchTracker(ctx: Context): Promise<string> {
  await mkdir(ctx.scratch, { recursive: true });
  const starters: (() => Promise<Tracker>)[] = [() => startShoal(ctx), () => startOpentracker(ctx)];
  const btDir = process.env.BENCH_BITTORRENT_TRACKER;
  if (btDir) starters.push(() => startBittorrentTracker(btDir));
  const results: TrackerResult[] = [];
  for (const start of starters) {
    const tracker = await start();
    try {
      const result = await measureTracker(tracker, ctx);
      await tracker.proc.stop('SIGTERM');
      const peak = await tracker.proc.peakRssKiB();
      result.peakRssMiB = peak === null ? null : peak / 1024;
      results.push(result);
    } finally {
      await tracker.proc.stop('SIGKILL');
    }
  }
  const peers = TORRENTS * (ctx.quick ? PEERS_PER_TORRENT / 10 : PEERS_PER_TORRENT);
  await writeResults(ctx, 'tracker', { peers, results });
  const table = markdownTable(
    [
      'tracker',
      `UDP started /s (${peers} peers)`,
      'UDP re-announce /s',
      'HTTP announce /s',
      'RSS idle MiB',
      `RSS with ${peers} peers MiB`,
      'peak RSS MiB',
      're-sent',
      'errors',
    ],
    results.map((r) => [
      r.tracker,
      fmt(r.fillPerSecond, 0),
      fmt(r.againPerSecond, 0),
      fmt(r.httpPerSecond, 0),
      fmt(r.idleRssMiB, 1),
      fmt(r.rssMiB, 1),
      fmt(r.peakRssMiB, 1),
      String(r.resent),
      String(r.errors),
    ]),
  );
  return `### tracker\n\n${table}\n`;
}

// Standalone run (npm run bench runs it through bench/run.ts once registered there).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const ctx: Context = {
    quick,
    keep: false,
    seed: 1,
    runs: 1,
    scratch: '/tmp/shoal-bench-tracker',
  };
  try {
    process.stdout.write(await benchTracker(ctx));
  } finally {
    await killAll(1000, true);
  }
}
