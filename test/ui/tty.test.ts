/**
 * A real `shoal download` on a pseudo-terminal (a detached tmux session of a
 * fixed size): the live view redraws in place instead of filling the pane,
 * survives a resize, and after Ctrl-C leaves a clean terminal: the summary
 * line, the cursor visible again, exit 130. Loopback only, bounded waits,
 * and a private tmux server (-L) that the test kills by its socket.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runShoal, spawnShoal, trackProcesses } from '../helpers/cli.ts';
import { requirePeers, TMUX } from '../helpers/peers.ts';

trackProcesses();

const socket = `shoal-ui-test-${process.pid}`;
const tmux = (...args: string[]) =>
  execFileSync(TMUX, ['-L', socket, ...args], { encoding: 'utf8', timeout: 10_000 });

afterAll(() => {
  try {
    tmux('kill-server');
  } catch {
    // no server left
  }
});

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

describe('live view on a terminal', () => {
  requirePeers('tmux');
  it('redraws in place, fits after a resize, and Ctrl-C leaves the terminal clean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-tty-'));
    mkdirSync(join(dir, 'data'));
    for (const name of ['one.bin', 'two.bin', 'three.bin'])
      writeFileSync(join(dir, 'data', name), randomBytes(2_000_000));
    const torrent = join(dir, 't.torrent');
    const created = await runShoal([
      'create',
      join(dir, 'data'),
      '-o',
      torrent,
      '--piece-length',
      '16KiB',
    ]);
    expect(created.code).toBe(0);
    const seed = spawnShoal(['seed', torrent, '-d', dir, '--port', '0', '--events']);
    const port = (
      await seed.waitFor(/"type":"listening","time":"[^"]+","port":(\d+)/, 30_000, 'stdout')
    )[1];

    const node = join(repoRoot, 'node_modules', '.bin', 'node');
    // A slow download (64 KiB/s of 6 MB) so it is still running when we look and press Ctrl-C.
    const command = [
      'env -u CI -u NO_COLOR -u FORCE_COLOR SHOAL_NO_DHT=1',
      quote(node),
      quote(join(repoRoot, 'bin', 'dev.js')),
      'download',
      quote(torrent),
      '-o',
      quote(join(dir, 'out')),
      '--peer',
      `127.0.0.1:${port}`,
      '--download-limit 64KiB; echo "EXIT=$?"; sleep 120',
    ].join(' ');
    tmux('new-session', '-d', '-s', 'dl', '-x', '100', '-y', '30', command);
    const pane = () => tmux('capture-pane', '-p', '-t', 'dl');
    // -J joins lines the terminal wrapped (the error line is longer than a narrow pane).
    const joined = () => tmux('capture-pane', '-p', '-J', '-t', 'dl');

    const first = await until('the download view', () => {
      const text = pane();
      return /Download/.test(text) && /peers \d+\/\d+/.test(text) ? text : undefined;
    });
    expect(first).toMatch(/Check existing data/);
    // The load phase is done by the time the view shows, and names what was loaded.
    expect(first).toMatch(/Load: \S+ \([\d.]+ \w+, \d+ files?, \d+ pieces\)/);
    // Let it redraw a good number of frames, then check nothing piled up.
    await until('progress', () => (/\b[1-9]\d*\.\d%/.test(pane()) ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const later = pane();
    const count = (text: string, pattern: RegExp) =>
      text.split('\n').filter((line) => pattern.test(line)).length;
    expect(count(later, /peers \d+\/\d+/), later).toBe(1);
    expect(count(later, /Check existing data/), later).toBe(1);
    expect(count(later, /Download/), later).toBe(1);
    expect(count(later, /Load: /), later).toBe(1);

    tmux('resize-window', '-t', 'dl', '-x', '50', '-y', '30');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const narrow = pane();
    for (const line of narrow.split('\n')) expect(line.length, narrow).toBeLessThanOrEqual(50);
    expect(count(narrow, /Check existing data/), narrow).toBe(1);
    expect(count(narrow, /peers \d+\/\d+/), narrow).toBe(1);

    tmux('send-keys', '-t', 'dl', 'C-c');
    const final = await until('the exit code', () => {
      const text = joined();
      return /EXIT=\d+/.test(text) ? text : undefined;
    });
    expect(final).toMatch(/EXIT=130/);
    expect(final).toMatch(/interrupted after .*pieces .* verified and saved/s);
    expect(tmux('display-message', '-p', '-t', 'dl', '#{cursor_flag}').trim()).toBe('1');
    // The live frame is gone: its last state is the phase list, drawn once.
    expect(count(final, /Check existing data/), final).toBe(1);
    expect(count(final, /peers \d+\/\d+/), final).toBe(0);
  });
});
