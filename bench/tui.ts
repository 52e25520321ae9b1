/**
 * `tui`: what `shoal tui` costs with 1 000 torrents. A fake Transmission-RPC
 * endpoint in this process serves 1 000 torrents (10 of them active, their
 * rates changing on every call, as `recently-active` reports them); the TUI
 * runs in a tmux pane (120x40) polling every 2 s. Measured from /proc: CPU
 * while idle (no keys) as a share of one core, resident memory; and how long
 * a keypress takes to show (send `j`, read the pane until the selection moved).
 * Also counts the RPC calls and bytes the TUI asked for while idle.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { TmuxPane, shellQuote } from '../test/e2e/tui-tmux.ts';
import {
  fmt,
  freePort,
  log,
  markdownTable,
  median,
  primaryShoal,
  writeResults,
  type Context,
} from './lib/common.ts';
import { sleep } from './lib/procs.ts';

const TORRENTS = 1000;
const ACTIVE = 10;

interface Served {
  calls: number;
  full: number;
  recent: number;
  bytes: number;
}

function fakeTorrent(id: number, call: number): Record<string, unknown> {
  const active = id <= ACTIVE;
  return {
    id,
    name: `bench-torrent-${String(id).padStart(4, '0')}.iso`,
    status: active ? 4 : id % 3 === 0 ? 0 : 6,
    error: 0,
    errorString: '',
    percentDone: active ? ((call + id) % 100) / 100 : 1,
    recheckProgress: 0,
    sizeWhenDone: id * 1_048_576,
    downloadedEver: id * 1_048_576,
    uploadedEver: id * 524_288,
    rateDownload: active ? 100_000 + ((call * 7919 + id) % 50_000) : 0,
    rateUpload: active ? 20_000 : 0,
    peersConnected: active ? 5 : 0,
    uploadRatio: 0.5,
    eta: active ? 600 : -1,
    addedDate: 1_700_000_000 + id,
  };
}

/** A Transmission-RPC endpoint with just what the TUI's list asks for. */
function fakeRpc(served: Served): http.Server {
  return http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.headers['x-transmission-session-id'] !== 'bench') {
        response.writeHead(409, { 'X-Transmission-Session-Id': 'bench' }).end();
        return;
      }
      const { method, arguments: args = {} } = JSON.parse(Buffer.concat(chunks).toString()) as {
        method: string;
        arguments?: Record<string, unknown>;
      };
      served.calls++;
      let answer: Record<string, unknown> = {};
      if (method === 'torrent-get') {
        const recent = args.ids === 'recently-active';
        if (recent) served.recent++;
        else served.full++;
        const ids = recent ? ACTIVE : TORRENTS;
        answer = {
          torrents: Array.from({ length: ids }, (_, i) => fakeTorrent(i + 1, served.calls)),
          ...(recent ? { removed: [] } : {}),
        };
      } else if (method === 'session-get') answer = { 'download-dir': '/srv', version: 'bench' };
      else if (method === 'free-space') answer = { path: '/srv', 'size-bytes': 1e12 };
      const body = JSON.stringify({ result: 'success', arguments: answer });
      served.bytes += Buffer.byteLength(body);
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
    });
  });
}

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function memoryMiB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return kib / 1024;
}

export async function benchTui(ctx: Context): Promise<string> {
  const served: Served = { calls: 0, full: 0, recent: 0, bytes: 0 };
  const server = fakeRpc(served);
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const build = primaryShoal();
  const pane = TmuxPane.start(120, 40, { LANG: 'C.UTF-8' });
  try {
    const command = [build.cmd, ...build.args, 'tui', '--rpc', `127.0.0.1:${port}`];
    // exec: the pane's process is the TUI itself, so its PID is the pane's.
    pane.run(`exec ${command.map(shellQuote).join(' ')}`);
    await pane.waitForText(/bench-torrent-0001/, 60_000);
    await pane.waitForText(`${TORRENTS} torrents`, 30_000);
    const pid = Number(pane.display('#{pane_pid}'));
    const idleSeconds = ctx.quick ? 10 : 60;
    await sleep(3000);
    const before = { cpu: cpuSeconds(pid), at: performance.now(), ...structuredClone(served) };
    log(`tui: idle ${idleSeconds} s with ${TORRENTS} torrents`);
    await sleep(idleSeconds * 1000);
    const wall = (performance.now() - before.at) / 1000;
    const idleCpu = (cpuSeconds(pid) - before.cpu) / wall;
    const rss = memoryMiB(pid, 'VmRSS');
    const idleCalls = served.calls - before.calls;
    const idleBytes = served.bytes - before.bytes;

    // Keypresses: from send-keys to the selection drawn on its new row.
    const latencies: number[] = [];
    const presses = ctx.quick ? 10 : 30;
    for (let i = 0; i < presses; i++) {
      const target = `bench-torrent-${String(i + 2).padStart(4, '0')}`;
      const start = performance.now();
      pane.keys('j');
      await pane.waitFor(`selection on ${target}`, (text) =>
        new RegExp(`▶ +(\\d+ +)?${target}`).test(text),
      );
      latencies.push(performance.now() - start);
      await sleep(100);
    }
    const peak = memoryMiB(pid, 'VmHWM');
    const rows = [
      [
        build.label,
        String(TORRENTS),
        fmt(idleCpu * 100, 2),
        fmt(rss, 1),
        fmt(peak, 1),
        fmt(idleCalls / wall, 2),
        fmt(idleBytes / wall / 1024, 1),
        fmt(median(latencies), 1),
        fmt(Math.max(...latencies), 1),
      ],
    ];
    const file = await writeResults(ctx, 'tui', {
      torrents: TORRENTS,
      active: ACTIVE,
      idleSeconds: wall,
      idleCpuShareOfCore: idleCpu,
      rssMiB: rss,
      peakRssMiB: peak,
      idleRpcCallsPerSecond: idleCalls / wall,
      idleRpcKiBPerSecond: idleBytes / wall / 1024,
      fullListCalls: served.full,
      recentlyActiveCalls: served.recent,
      keypressMs: latencies,
    });
    log(`tui: results in ${file}`);
    return [
      `### tui: ${TORRENTS} torrents (${ACTIVE} active), polling every 2 s, 120x40 pane`,
      '',
      markdownTable(
        [
          'build',
          'torrents',
          'idle CPU % of a core',
          'RSS MiB',
          'peak RSS MiB',
          'RPC calls/s',
          'RPC KiB/s',
          'keypress median ms',
          'keypress max ms',
        ],
        rows,
      ),
      '',
      'Keypress times include tmux send-keys and capture-pane round trips (a few ms each).',
    ].join('\n');
  } finally {
    pane.kill();
    server.close();
  }
}
