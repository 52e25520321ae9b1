/**
 * Produces the README's text capture of `shoal tui` from a real run: starts a
 * `shoal daemon` on loopback with its own state and download folders, adds
 * three torrents made here (two with their data already in place, one
 * without), runs `shoal tui` in a 100x24 tmux pane, and prints the list view
 * and the detail view (Files tab) as Markdown code blocks on stdout.
 *
 *   node_modules/.bin/node scripts/tui-capture.ts [--bin dist/shoal]
 *
 * Everything it starts is stopped by PID at the end, and its folders removed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RpcClient } from '../src/core/rpc/client.ts';
import { shellQuote, TmuxPane } from '../test/e2e/tui-tmux.ts';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { bin: { type: 'string' } } });
const shoal = values.bin
  ? [resolve(values.bin)]
  : [join(root, 'node_modules', '.bin', 'node'), join(root, 'bin', 'dev.js')];

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

function createTorrent(data: string, torrent: string): void {
  const made = spawnSync(
    shoal[0]!,
    [
      ...shoal.slice(1),
      'create',
      data,
      '-o',
      torrent,
      '--no-date',
      '-a',
      'http://127.0.0.1:6969/announce',
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`shoal create failed: ${made.stderr}`);
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const work = mkdtempSync(join(tmpdir(), 'shoal-tui-capture-'));
let daemon: ChildProcess | undefined;
let pane: TmuxPane | undefined;
try {
  const downloads = join(work, 'downloads');
  const source = join(work, 'source');
  mkdirSync(join(source, 'debian-13-netinst'), { recursive: true });
  mkdirSync(downloads);
  // Two torrents whose data is already in the download folder (the daemon verifies and seeds them) ...
  writeFileSync(join(downloads, 'big-buck-bunny-1080p.mkv'), randomBytes(6 * 1024 * 1024));
  const album = join(downloads, 'field-recordings-2026');
  mkdirSync(join(album, 'disc 1'), { recursive: true });
  for (const [name, size] of [
    ['disc 1/01 harbour at dawn.flac', 900_000],
    ['disc 1/02 rain on tin.flac', 700_000],
    ['cover.jpg', 120_000],
    ['notes.txt', 3_000],
  ] as const)
    writeFileSync(join(album, name), randomBytes(size));
  // ... and one without: it waits for peers.
  writeFileSync(
    join(source, 'debian-13-netinst', 'debian-13.0.0-amd64-netinst.iso'),
    randomBytes(3 * 1024 * 1024),
  );
  const torrents = [
    join(work, 'bunny.torrent'),
    join(work, 'album.torrent'),
    join(work, 'debian.torrent'),
  ];
  createTorrent(join(downloads, 'big-buck-bunny-1080p.mkv'), torrents[0]!);
  createTorrent(album, torrents[1]!);
  createTorrent(join(source, 'debian-13-netinst'), torrents[2]!);

  const rpcPort = await freePort();
  daemon = spawn(
    shoal[0]!,
    [
      ...shoal.slice(1),
      'daemon',
      '--state-dir',
      join(work, 'state'),
      '--download-dir',
      downloads,
      '--rpc-port',
      String(rpcPort),
      '--port',
      '0',
      '--no-dht',
    ],
    {
      stdio: 'ignore',
      env: { ...process.env, SHOAL_NO_LSD: '1', XDG_STATE_HOME: join(work, 'xdg') },
    },
  );
  const rpc = new RpcClient(`http://127.0.0.1:${rpcPort}/transmission/rpc`);
  await waitFor('the daemon', () => rpc.call('session-get'));
  for (const torrent of torrents)
    await rpc.call('torrent-add', { metainfo: readFileSync(torrent).toString('base64') });
  await waitFor('two torrents verified', async () => {
    const { torrents: list } = (await rpc.call('torrent-get', { fields: ['percentDone'] })) as {
      torrents: { percentDone: number }[];
    };
    return list.filter((t) => t.percentDone === 1).length === 2 ? true : undefined;
  });

  pane = TmuxPane.start(100, 24, { LANG: 'C.UTF-8', NO_COLOR: '1' });
  pane.run(`exec ${[...shoal, 'tui', '--rpc', `127.0.0.1:${rpcPort}`].map(shellQuote).join(' ')}`);
  await pane.waitForText(/field-recordings-2026 +Seeding/);
  await pane.waitForText(/free /);
  const listView = pane.text();
  // The album is the third row (sorted by name); in its tree, walk down to the second track.
  pane.keys('j', 'j', 'Enter');
  await pane.waitForText(/notes\.txt/);
  for (let row = 0; row < 10 && !/▶ .*02 rain on tin/.test(pane.text()); row++) {
    pane.keys('j');
    await new Promise((r) => setTimeout(r, 150));
  }
  const detailView = pane.text();
  pane.keys('q');
  // The empty rows between the last torrent and the status bar become one, to keep the README short.
  const block = (text: string) =>
    [
      '```text',
      ...text
        .trimEnd()
        .split('\n')
        .map((line) => line.trimEnd())
        .filter((line, i, lines) => line !== '' || lines[i - 1] !== ''),
      '```',
    ].join('\n');
  process.stdout.write(`${block(listView)}\n\n${block(detailView)}\n`);
} finally {
  pane?.kill();
  if (daemon?.pid) daemon.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(work, { recursive: true, force: true });
}
