/**
 * `shoal tui` on a real terminal (tmux, its own socket and size) against a
 * real daemon: shoal daemon holding a torrent it downloaded from a
 * python3-libtorrent seeder plus a multi-file one, and transmission-daemon
 * with the same two (data pre-placed: it ignores 127.x peers). The same
 * keystrokes drive both, since the TUI speaks only the RPC protocol. What the
 * keys do is checked in the daemon over RPC, not only on screen; the terminal
 * must come back (alternate screen off, cursor visible) on q and on Ctrl-C,
 * with the daemon still serving.
 */
import { readFileSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RpcClient } from '../../src/core/rpc/client.ts';
import { shoalCommand, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { requirePeers } from '../helpers/peers.ts';
import {
  requireTransmissionRpcTools,
  startTransmissionDaemon,
} from '../helpers/transmission-daemon.ts';
import {
  dataWithTorrent,
  makeTorrent,
  startDaemon,
  startSeeder,
  waitForTorrents,
} from '../core/daemon/daemon-fixtures.ts';
import { shellQuote, TmuxPane } from './tui-tmux.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 300_000, hookTimeout: 60_000 });
requireTransmissionRpcTools();

const panes: TmuxPane[] = [];
afterEach(() => {
  for (const pane of panes.splice(0)) pane.kill();
});

interface Daemon {
  url: string;
  rpc: RpcClient;
  alive(): boolean;
}

/** A single-file torrent with its data, a three-file one (album/a.bin, b.bin, c.bin), and one more to add. */
async function payloads(): Promise<{
  single: { data: string; torrent: string };
  album: string;
  albumDir: string;
  extra: string;
}> {
  const dir = tempDir('shoal-tui-data-');
  const single = await dataWithTorrent(dir, 'payload.bin', 2 * 1024 * 1024);
  const albumDir = path.join(dir, 'album');
  await mkdir(albumDir);
  for (const [name, size] of [
    ['a.bin', 300_000],
    ['b.bin', 200_000],
    ['c.bin', 100_000],
  ] as const)
    await writeFile(path.join(albumDir, name), Buffer.alloc(size, name));
  // A third torrent, for the add prompt: its data is nowhere the daemon looks.
  const extra = await dataWithTorrent(path.join(dir, 'elsewhere'), 'extra.bin', 100_000);
  return { single, album: makeTorrent(albumDir), albumDir, extra: extra.torrent };
}

async function addTorrent(rpc: RpcClient, torrent: string, paused = false): Promise<void> {
  await rpc.call('torrent-add', { metainfo: (await readFile(torrent)).toString('base64'), paused });
}

type Torrent = {
  downloadLimit: number;
  downloadLimited: boolean;
  uploadLimit: number;
  uploadLimited: boolean;
  id: number;
  name: string;
  status: number;
  percentDone: number;
  fileStats: { wanted: boolean }[];
  files: { name: string }[];
};

async function list(rpc: RpcClient): Promise<Torrent[]> {
  const answer = await rpc.call('torrent-get', {
    fields: [
      'id',
      'name',
      'status',
      'percentDone',
      'files',
      'fileStats',
      'downloadLimit',
      'downloadLimited',
      'uploadLimit',
      'uploadLimited',
    ],
  });
  return answer.torrents as Torrent[];
}

async function until(
  rpc: RpcClient,
  what: string,
  done: (torrents: Torrent[]) => boolean,
): Promise<Torrent[]> {
  const deadline = Date.now() + 60_000;
  let last: Torrent[] = [];
  while (Date.now() < deadline) {
    last = await list(rpc);
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(
    `${what}: not within 60 s; the daemon says ${JSON.stringify(last.map(({ files, ...t }) => (void files, t)))}`,
  );
}

/** The shell line that runs the TUI and then prints its exit code. */
function tuiLine(url: string, env = ''): string {
  const { file, prefix } = shoalCommand();
  const command = [file, ...prefix, 'tui', '--rpc', url, '--interval', '500ms']
    .map(shellQuote)
    .join(' ');
  return `${env}${command}; echo "TUI-EXIT=$?"`;
}

function openPane(columns: number, rows: number): TmuxPane {
  const env: Record<string, string> = { LANG: 'C.UTF-8' };
  for (const name of ['SHOAL_EXE', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  const pane = TmuxPane.start(columns, rows, env);
  panes.push(pane);
  return pane;
}

/** Every check of the "done when", against one daemon holding payload.bin (complete) and album (incomplete). */
async function driveTheTui(daemon: Daemon, extraTorrent: string): Promise<void> {
  const pane = openPane(100, 30);
  pane.run(tuiLine(daemon.url));
  // The list, with both torrents and their states.
  await pane.waitForText(/payload\.bin +Seeding +█+ 100%/);
  await pane.waitForText(/album +(Downloading|Queued)/);
  expect(pane.alternateOn()).toBe(true);
  expect(pane.text()).toMatch(/127\.0\.0\.1:\d+ ok/);

  // Help overlay, and away again.
  pane.keys('?');
  await pane.waitForText('Keys (? or Esc closes)');
  expect(pane.text()).toContain('quit (daemon keeps running)');
  pane.keys('Escape');
  await pane.waitFor('help closed', (text) => !text.includes('Keys (? or'));

  // The mouse: a click on the second row selects payload.bin, the wheel moves back up.
  pane.tmux('send-keys', '-t', 'tui', '-l', '\u001b[<0;5;3M\u001b[<0;5;3m');
  await pane.waitForText(/▶ +(\d+ +)?payload\.bin/);
  pane.tmux('send-keys', '-t', 'tui', '-l', '\u001b[<64;5;3M');
  await pane.waitForText(/▶ +(\d+ +)?album/);

  // Details of album (sorted by name: album first), its files as a tree.
  pane.keys('g', 'Enter');
  await pane.waitForText('[1 Files]');
  await pane.waitForText(/\[x\] +a\.bin/);
  expect(pane.text()).toMatch(/\[x\] +▸ album\//);
  // Skip a.bin (the row under the folder): the daemon must say it is unwanted.
  pane.keys('j', 'Space');
  await pane.waitForText(/\[ \] +a\.bin/);
  const skipped = await until(daemon.rpc, 'a.bin unwanted', (ts) => {
    const album = ts.find((t) => t.name === 'album');
    const index = album?.files.findIndex((f) => f.name.endsWith('a.bin')) ?? -1;
    return index >= 0 && album!.fileStats[index]!.wanted === false;
  });
  const album = skipped.find((t) => t.name === 'album')!;
  expect(album.fileStats.filter((f) => !f.wanted)).toHaveLength(1);
  // The folder now shows a partial selection.
  await pane.waitForText(/\[~\] +▸ album\//);

  // The other tabs: Tab, then the number keys, and Shift-Tab back.
  pane.keys('Tab');
  await pane.waitForText('[2 Peers]');
  await pane.waitForText(/no peers connected|Address +Client/);
  pane.keys('3');
  await pane.waitForText('[3 Trackers]');
  await pane.waitForText(/127\.0\.0\.1:9\/announce/);
  pane.keys('4');
  await pane.waitForText('[4 Pieces]');
  await pane.waitForText(/█ have .* pieces/);
  pane.keys('BTab');
  await pane.waitForText('[3 Trackers]');
  pane.keys('Escape');
  await pane.waitForText(/Name▼ +State/);

  // Pause and resume payload.bin (second row): reflected in the daemon.
  pane.keys('j', 'p');
  await until(
    daemon.rpc,
    'payload.bin stopped',
    (ts) => ts.find((t) => t.name === 'payload.bin')?.status === 0,
  );
  await pane.waitForText(/payload\.bin +Paused/);
  pane.keys('p');
  await until(
    daemon.rpc,
    'payload.bin seeding again',
    (ts) => ts.find((t) => t.name === 'payload.bin')?.status === 6,
  );
  await pane.waitForText(/payload\.bin +Seeding/);

  // Remove album: n cancels, y removes (data kept).
  pane.keys('g', 'r');
  await pane.waitForText('Remove "album"? y = remove (keep data)');
  pane.keys('n');
  await pane.waitForText('remove cancelled');
  expect((await list(daemon.rpc)).map((t) => t.name).sort()).toEqual(['album', 'payload.bin']);
  pane.keys('r');
  await pane.waitForText('Remove "album"?');
  pane.keys('y');
  await until(
    daemon.rpc,
    'album removed',
    (ts) => ts.length === 1 && ts[0]!.name === 'payload.bin',
  );
  await pane.waitFor('album gone from the list', (text) => !/album +Down/.test(text));

  // a: add another from its .torrent path (sent as data, as for a daemon on another machine).
  pane.keys('a');
  await pane.waitForText('Add (magnet link, URL or .torrent path):');
  pane.tmux('send-keys', '-t', 'tui', '-l', extraTorrent);
  pane.keys('Enter');
  await until(daemon.rpc, 'extra.bin added', (ts) => ts.length === 2);
  await pane.waitForText(/extra\.bin +(Downloading|Queued)/);

  // l: limits for payload.bin (the last row), in the daemon's KB/s.
  pane.keys('G', 'l');
  await pane.waitForText('Limits "down,up" per second');
  pane.tmux('send-keys', '-t', 'tui', '-l', '100KiB,50KiB');
  pane.keys('Enter');
  await until(daemon.rpc, 'limits set', (ts) => {
    const t = ts.find((x) => x.name === 'payload.bin');
    return (
      t?.downloadLimited === true &&
      t.downloadLimit === 100 &&
      t.uploadLimited === true &&
      t.uploadLimit === 50
    );
  });

  // Resize to 200 columns: the wide columns appear, every line fits.
  pane.resize(200, 40);
  await pane.waitForText(/Ratio +Down'd +Up'd/);
  expect(
    pane
      .text()
      .split('\n')
      .every((line) => line.length <= 200),
  ).toBe(true);

  // Below 80x24: one clear message.
  pane.resize(70, 20);
  await pane.waitForText('Terminal too small: 70x20');
  pane.resize(100, 30);
  await pane.waitForText(/payload\.bin +Seeding/);

  // q: the terminal comes back, the shell runs on, the daemon keeps serving.
  pane.keys('q');
  await pane.waitForText('TUI-EXIT=0');
  expect(pane.alternateOn()).toBe(false);
  expect(pane.cursorVisible()).toBe(true);
  expect(daemon.alive()).toBe(true);
  expect((await list(daemon.rpc)).map((t) => t.name).sort()).toEqual(['extra.bin', 'payload.bin']);

  // NO_COLOR: the same screen without a single color escape; Ctrl-C restores the terminal too.
  pane.run(tuiLine(daemon.url, 'NO_COLOR=1 '));
  await pane.waitForText(/payload\.bin +Seeding/);
  expect(pane.alternateOn()).toBe(true);
  // eslint-disable-next-line no-control-regex
  expect(pane.text(true)).not.toMatch(/\u001b\[[0-9;]*m/);
  pane.keys('C-c');
  await pane.waitForText('TUI-EXIT=0');
  expect(pane.alternateOn()).toBe(false);
  expect(pane.cursorVisible()).toBe(true);
  expect(daemon.alive()).toBe(true);
  expect(await list(daemon.rpc)).toHaveLength(2);

  // SIGTERM (a closing SSH session, a system shutdown): the terminal comes back as well, exit 130.
  pane.run(tuiLine(daemon.url));
  await pane.waitForText(/payload\.bin +Seeding/);
  const shell = pane.display('#{pane_pid}');
  const [tuiPid] = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8')
    .trim()
    .split(/\s+/);
  process.kill(Number(tuiPid), 'SIGTERM');
  await pane.waitForText('TUI-EXIT=130');
  expect(pane.alternateOn()).toBe(false);
  expect(pane.cursorVisible()).toBe(true);
  expect(daemon.alive()).toBe(true);
}

describe('shoal tui in a terminal', () => {
  requirePeers('tmux', 'libtorrent');

  it('drives shoal daemon: a torrent from a libtorrent seeder and a multi-file one', async () => {
    const { single, album, extra } = await payloads();
    const daemon = await startDaemon();
    await addTorrent(daemon.rpc, single.torrent);
    const seeder = await startSeeder({
      torrent: single.torrent,
      save: path.dirname(single.data),
      peers: [`127.0.0.1:${daemon.peerPort}`],
    });
    await waitForTorrents(daemon.rpc, ([t]) => t?.percentDone === 1, 'payload.bin from libtorrent');
    seeder.proc.kill();
    await addTorrent(daemon.rpc, album);
    await driveTheTui(
      {
        url: daemon.url,
        rpc: daemon.rpc,
        alive: () => daemon.proc.child.exitCode === null,
      },
      extra,
    );
    daemon.proc.kill('SIGTERM');
    expect((await daemon.proc.wait(60_000)).code, daemon.proc.describe()).toBe(0);
  });

  it('drives transmission-daemon the same way', async () => {
    const { single, album, extra } = await payloads();
    const daemon = await startTransmissionDaemon();
    // Pre-placed data: transmission verifies it and seeds (it ignores peers on 127.x).
    await cp(single.data, path.join(daemon.downloadDir, 'payload.bin'));
    const rpc = new RpcClient(daemon.url);
    await addTorrent(rpc, single.torrent);
    await until(
      rpc,
      'payload.bin verified',
      (ts) => ts[0]?.percentDone === 1 && ts[0].status === 6,
    );
    await addTorrent(rpc, album);
    await driveTheTui(
      { url: daemon.url, rpc, alive: () => daemon.proc.child.exitCode === null },
      extra,
    );
  });

  it('refuses without a terminal, in one line', async () => {
    const { file, prefix } = shoalCommand();
    const { execFile } = await import('node:child_process');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(
        file,
        [...prefix, 'tui'],
        { timeout: 30_000 },
        (error, _stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr }),
      );
      child.stdin?.end();
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toEqual([
      'shoal: error: shoal tui needs a terminal on stdin and stdout (use shoal remote ls in scripts)',
    ]);
  });
});
