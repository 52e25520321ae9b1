/**
 * The client side of `scale-torrents`, run as its own process (so its
 * memory is its own): one TorrentManager (the engine behind the daemon and
 * the library) with the queues off, `count` small private torrents added one
 * after another (no data on disk, no peers: each sits idle after its first
 * announce), then watched while idle. Prints one JSON document on stdout.
 *
 *   node --expose-gc bench/lib/many-torrents-client.ts DIR TRACKER_URL COUNT IDLE_SECONDS
 *
 * Private torrents: no DHT, PEX or LSD, so nothing leaves 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import bencode from 'bencode';
import { TorrentManager } from '../../src/core/daemon/torrent-manager.ts';

const [dir, tracker, countText, idleText] = process.argv.slice(2);
const count = Number(countText);
const idleSeconds = Number(idleText);
const gc = (globalThis as { gc?: () => void }).gc;
if (!dir || !tracker || !(count > 0) || !(idleSeconds >= 0) || !gc) {
  process.stderr.write(
    'usage: node --expose-gc many-torrents-client.ts DIR TRACKER_URL COUNT IDLE_SECONDS\n',
  );
  process.exit(2);
}

const PIECE_LENGTH = 256 * 1024;
const PIECES = 4;

/** A private single-file torrent of 1 MiB whose data exists nowhere (hashes made up). */
function torrent(index: number): Uint8Array {
  const pieces = Buffer.concat(
    Array.from({ length: PIECES }, (_, piece) =>
      createHash('sha1').update(`${index}/${piece}`).digest(),
    ),
  );
  return bencode.encode({
    announce: tracker,
    info: {
      length: PIECE_LENGTH * PIECES,
      name: `idle-${index}`,
      'piece length': PIECE_LENGTH,
      pieces,
      private: 1,
    },
  });
}

interface Memory {
  torrents: number;
  rssMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
}

function memory(torrents: number): Memory {
  gc!();
  const usage = process.memoryUsage();
  const mib = (n: number) => +(n / 2 ** 20).toFixed(2);
  return {
    torrents,
    rssMiB: mib(usage.rss),
    heapUsedMiB: mib(usage.heapUsed),
    externalMiB: mib(usage.external),
  };
}

const manager = await TorrentManager.open({
  stateDir: null,
  downloadDir: dir,
  port: 0,
  dht: false,
  threads: 1,
  version: 'bench',
});
try {
  await manager.setSettings({ 'download-queue-enabled': false, 'seed-queue-enabled': false });
  const bodies = Array.from({ length: count }, (_, i) => torrent(i));
  const checkpoints: Memory[] = [memory(0)];
  const addMs: number[] = [];
  const addedAt: number[] = [];
  const hashes: string[] = [];
  const cpuBeforeAdd = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    addedAt.push(Date.now());
    const { torrent: added } = await manager.add({ metainfo: bodies[i]! }, { paused: false });
    hashes.push(added.record.hash);
    addMs.push(performance.now() - start);
    if ((i + 1) % Math.max(1, Math.floor(count / 4)) === 0 || i + 1 === count)
      checkpoints.push(memory(i + 1));
  }
  const addCpu = process.cpuUsage(cpuBeforeAdd);
  // Idle: every torrent has announced (or is about to) and has nothing to do.
  const cpuBeforeIdle = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const idleCpu = process.cpuUsage(cpuBeforeIdle);
  const activities: Record<string, number> = {};
  for (const item of manager.list())
    activities[item.activity] = (activities[item.activity] ?? 0) + 1;
  const idle = memory(count);
  process.stdout.write(
    `${JSON.stringify({
      count,
      addMs,
      addedAt,
      hashes,
      addCpuSeconds: (addCpu.user + addCpu.system) / 1e6,
      idleSeconds,
      idleCpuSeconds: (idleCpu.user + idleCpu.system) / 1e6,
      checkpoints,
      idle,
      activities,
    })}\n`,
  );
} finally {
  await manager.close();
}
