/**
 * `shoal download --tui` on a real terminal (tmux, its own socket and size)
 * against a real seeder (`shoal seed`, its upload capped so the download
 * takes several seconds): the list row with progress, the detail tabs, a
 * refused action, q stopping the download as Ctrl-C does (exit 130, the
 * terminal back: alternate screen off, cursor visible) with the partial data
 * kept, the rerun resuming it and completing (Finished until q, then exit 0
 * and the path on stdout), Ctrl-C and SIGTERM, a failed download, and the
 * usage errors.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { shoalCommand, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { requirePeers } from '../helpers/peers.ts';
import { createTorrent, startShoalSeeder } from '../helpers/swarm.ts';
import { shellQuote, TmuxPane } from './tui-tmux.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 300_000, hookTimeout: 60_000 });

const panes: TmuxPane[] = [];
afterEach(() => {
  for (const pane of panes.splice(0)) pane.kill();
});

const MiB = 1024 * 1024;
/** Nobody listens there: the Trackers tab lists it, announces to it fail at once. */
const TRACKER = 'http://127.0.0.1:9/announce';

/**
 * album/a.bin (9 MiB) and album/b.bin (1 MiB), its torrent, and a seeder sending 512 KiB/s
 * (about 20 s for the whole: time to look at the tabs and stop it part-way).
 */
async function seededAlbum(): Promise<{ torrent: string; albumDir: string; port: number }> {
  const dir = tempDir('shoal-tui-download-');
  const albumDir = path.join(dir, 'album');
  await mkdir(albumDir);
  // Different bytes in every block, so a misplaced block could not pass for a right one.
  const bytes = (size: number, seed: number) => {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + seed + (i >> 12)) & 0xff;
    return data;
  };
  await writeFile(path.join(albumDir, 'a.bin'), bytes(9 * MiB, 1));
  await writeFile(path.join(albumDir, 'b.bin'), bytes(1 * MiB, 7));
  const { torrent } = await createTorrent(albumDir, path.join(dir, 'album.torrent'), [
    '-a',
    TRACKER,
  ]);
  const seeder = await startShoalSeeder(torrent, dir, ['--upload-limit', '512KiB']);
  return { torrent, albumDir, port: seeder.port };
}

function openPane(columns: number, rows: number): TmuxPane {
  // Loopback only: no DHT, no LSD (as every test runs shoal).
  const env: Record<string, string> = { LANG: 'C.UTF-8', SHOAL_NO_DHT: '1', SHOAL_NO_LSD: '1' };
  for (const name of ['SHOAL_EXE', 'XDG_STATE_HOME', 'XDG_CACHE_HOME', 'HOME']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  const pane = TmuxPane.start(columns, rows, env);
  panes.push(pane);
  return pane;
}

/** The shell line that runs the download in the TUI, then prints its exit code. */
function downloadLine(args: string[]): string {
  const { file, prefix } = shoalCommand();
  const command = [file, ...prefix, 'download', ...args, '--tui'].map(shellQuote).join(' ');
  return `${command}; echo "TUI-EXIT=$?"`;
}

/** The PID of the program the pane's shell runs now. */
function programPid(pane: TmuxPane): number {
  const shell = pane.display('#{pane_pid}');
  const [pid] = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/);
  return Number(pid);
}

/** "5.20 MiB" -> bytes. */
function bytesOf(text: string): number {
  const match = /([\d.]+) (B|KiB|MiB|GiB)/.exec(text);
  if (!match) throw new Error(`not a size: "${text}"`);
  const unit = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB }[match[2] as 'B'];
  return Number(match[1]) * unit;
}

/** The text of a right-aligned list column in the row of `name` (cells end where their title ends). */
function cell(screen: string, title: string, width: number, name: string): string {
  const lines = screen.split('\n');
  const header = lines.find((line) => line.includes(title))!;
  const end = header.indexOf(title) + title.length;
  const row = lines.find((line) => line.includes(name) && line !== header)!;
  return row.slice(end - width, end).trim();
}

describe('shoal download --tui in a terminal', () => {
  requirePeers('tmux');

  it('shows the download and its tabs; q stops it (terminal back, exit 130), the rerun resumes and completes', async () => {
    const { torrent, albumDir, port } = await seededAlbum();
    const out = tempDir('shoal-tui-download-out-');
    const args = [torrent, '-o', out, '--peer', `127.0.0.1:${port}`];
    const pane = openPane(100, 30);
    pane.run(downloadLine(args));

    // The list: one row, downloading, with its progress bar; the status bar.
    await pane.waitForText(/album +Downloading +[█░]{10} +\d+% +10\.0 MiB/);
    expect(pane.alternateOn()).toBe(true);
    expect(pane.text()).toMatch(/download ok .* 1 torrents/);

    // Details: the files as a tree (b.bin and a.bin under album/), then each tab.
    pane.keys('Enter');
    await pane.waitForText('[1 Files]');
    await pane.waitForText(/\[x\] +a\.bin +9\.00 MiB/);
    expect(pane.text()).toMatch(/\[x\] +b\.bin +1\.00 MiB/);
    pane.keys('2');
    await pane.waitForText('[2 Peers]');
    await pane.waitForText(new RegExp(`127\\.0\\.0\\.1:${port} +shoal`));
    pane.keys('3');
    await pane.waitForText('[3 Trackers]');
    await pane.waitForText(/0 +http:\/\/127\.0\.0\.1:9\/announce/);
    pane.keys('4');
    await pane.waitForText('[4 Pieces]');
    await pane.waitForText(/█ have .* \d+\/\d+ pieces/);
    // What a single download cannot do is refused in one line, and the link stays ok.
    pane.keys('p');
    await pane.waitForText('failed: no pause here: q stops, the same command resumes');
    expect(pane.text()).toContain('download ok');
    pane.keys('Escape');
    await pane.waitForText(/Name▼ +State/);

    // Some data, not all: then q stops the download as Ctrl-C does.
    await pane.waitForText(/album +Downloading +\S+ +([1-9]|[1-8]\d)% /);
    pane.keys('q');
    await pane.waitForText('TUI-EXIT=130');
    expect(pane.alternateOn()).toBe(false);
    expect(pane.cursorVisible()).toBe(true);
    const stopped = pane.text();
    expect(stopped).toContain('shoal: stopping');
    const saved = /interrupted after .*?: (\d+)\/(\d+) pieces/.exec(stopped.replace(/\n/g, ''));
    expect(saved, stopped).not.toBeNull();
    expect(Number(saved![1])).toBeGreaterThan(0);
    expect(Number(saved![1])).toBeLessThan(Number(saved![2]));

    // The rerun resumes (it downloads less than the whole) and completes; at 200 columns the
    // list shows how much came over the wire.
    pane.run('clear');
    pane.resize(200, 30);
    pane.run(downloadLine(args));
    await pane.waitForText(`complete: ${path.join(out, 'album')} (q quits)`, 90_000);
    await pane.waitForText(/album +Finished +█{10} +100%/);
    const finished = pane.text();
    const size = bytesOf(cell(finished, 'Size', 9, 'album'));
    const downloaded = bytesOf(cell(finished, "Down'd", 9, 'album'));
    expect(size).toBe(10 * MiB);
    expect(downloaded).toBeGreaterThan(0);
    expect(downloaded).toBeLessThan(size);
    // It stays until q; then the path goes to stdout on the normal screen, exit 0.
    expect(pane.alternateOn()).toBe(true);
    pane.keys('q');
    await pane.waitForText('TUI-EXIT=0');
    expect(pane.alternateOn()).toBe(false);
    expect(pane.cursorVisible()).toBe(true);
    expect(pane.text()).toContain(`${path.join(out, 'album')}\nTUI-EXIT=0`);
    for (const name of ['a.bin', 'b.bin'])
      expect(await readFile(path.join(out, 'album', name))).toEqual(
        await readFile(path.join(albumDir, name)),
      );
  });

  it('Ctrl-C and SIGTERM restore the terminal and stop the download as Ctrl-C does (exit 130)', async () => {
    const { torrent, port } = await seededAlbum();
    const out = tempDir('shoal-tui-download-out-');
    const pane = openPane(100, 30);
    const line = downloadLine([torrent, '-o', out, '--peer', `127.0.0.1:${port}`]);
    const partWay = /album +Downloading +\S+ +([1-9]|[1-8]\d)% /;
    const stopped = /interrupted after .* run the same command again/;
    // Ctrl-C is a key while the TUI has the terminal (raw mode), not a signal.
    pane.run(line);
    await pane.waitForText(partWay);
    pane.keys('C-c');
    await pane.waitForText('TUI-EXIT=130');
    expect(pane.alternateOn()).toBe(false);
    expect(pane.cursorVisible()).toBe(true);
    expect(pane.text().replace(/\n/g, '')).toMatch(stopped);

    pane.run('clear');
    pane.run(line);
    await pane.waitForText(partWay);
    process.kill(programPid(pane), 'SIGTERM');
    await pane.waitForText('TUI-EXIT=130');
    expect(pane.alternateOn()).toBe(false);
    expect(pane.cursorVisible()).toBe(true);
    expect(pane.text().replace(/\n/g, '')).toMatch(stopped);
  });

  it('a failed download gives the terminal back with its one-line error and exit code', async () => {
    const dir = tempDir('shoal-tui-download-fail-');
    await writeFile(path.join(dir, 'lonely.bin'), Buffer.alloc(100_000, 1));
    const { torrent } = await createTorrent(
      path.join(dir, 'lonely.bin'),
      path.join(dir, 'lonely.torrent'),
    );
    const pane = openPane(100, 30);
    // Nobody listens on port 9: no data within --timeout is a network failure (exit 4).
    pane.run(
      downloadLine([
        torrent,
        '-o',
        path.join(dir, 'out'),
        '--peer',
        '127.0.0.1:9',
        '--timeout',
        '2s',
      ]),
    );
    await pane.waitForText(/lonely\.bin +Downloading/);
    await pane.waitForText('TUI-EXIT=4');
    expect(pane.alternateOn()).toBe(false);
    expect(pane.cursorVisible()).toBe(true);
    expect(pane.text()).toContain('shoal: error: no data received from 1 known peer(s) for 2s');
  });

  it('refuses an output path that is a file before taking the screen: one line, exit 5', async () => {
    const dir = tempDir('shoal-tui-download-file-');
    await writeFile(path.join(dir, 'small.bin'), Buffer.alloc(20_000, 3));
    const { torrent } = await createTorrent(
      path.join(dir, 'small.bin'),
      path.join(dir, 'small.torrent'),
    );
    const file = path.join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const raw = path.join(dir, 'terminal-bytes');
    const pane = openPane(100, 30);
    // Every byte the pane receives, escapes included: the screen taken even for a moment shows.
    pane.tmux('pipe-pane', '-o', '-t', 'tui', `cat >> ${shellQuote(raw)}`);
    pane.run(downloadLine([torrent, '-o', file, '--peer', '127.0.0.1:9']));
    await pane.waitForText('TUI-EXIT=5');
    await pane.waitFor('the piped bytes to reach the exit code', () =>
      readFileSync(raw, 'latin1').includes('TUI-EXIT=5'),
    );
    const bytes = readFileSync(raw, 'latin1');
    expect(bytes).not.toContain('\u001b[?1049h');
    expect(pane.text().replace(/\n/g, '')).toContain(`shoal: error: ${file} is not a directory`);
    expect(await readFile(file, 'utf8')).toBe('not a directory');
  });

  it('refuses without a terminal and beside --json, in one line (exit 2)', async () => {
    const { file, prefix } = shoalCommand();
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          file,
          [...prefix, 'download', ...args],
          { timeout: 30_000, env: { ...process.env, SHOAL_NO_DHT: '1', SHOAL_NO_LSD: '1' } },
          (error, _stdout, stderr) =>
            resolve({
              code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
              stderr,
            }),
        );
        child.stdin?.end();
      });
    const torrent = path.join(tempDir('shoal-tui-download-usage-'), 'none.torrent');
    const noTerminal = await run([torrent, '--tui']);
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr.trim().split('\n')).toEqual([
      'shoal: error: --tui needs a terminal on stdin and stdout (without --tui, progress goes to stderr)',
    ]);
    const withJson = await run([torrent, '--tui', '--json']);
    expect(withJson.code).toBe(2);
    expect(withJson.stderr.trim().split('\n')).toEqual([
      'shoal: error: --tui cannot be used with --json (it draws on the terminal)',
    ]);
  });
});
