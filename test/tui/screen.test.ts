import { describe, expect, it } from 'vitest';
import { BINDINGS } from '../../src/tui/keymap.ts';
import { initialState } from '../../src/tui/state.ts';
import { visibleWidth } from '../../src/tui/text.ts';
import { bottomLine, statusBar } from '../../src/tui/views/bars.ts';
import { renderScreen } from '../../src/tui/views/screen.ts';
import { colored, plain, text, torrent } from './fake-source.ts';

function loaded() {
  const state = initialState('127.0.0.1:9091');
  state.loaded = true;
  state.link = 'ok';
  state.torrents.set(1, torrent(1, { rateDownload: 1024, rateUpload: 2048 }));
  state.torrents.set(2, torrent(2, { rateDownload: 1024 }));
  state.session = { downloadDir: '/d', freeSpace: 5 * 1024 ** 3, version: '' };
  return state;
}

describe('screen', () => {
  it('fills the terminal exactly: list, status bar, help bar', () => {
    const lines = renderScreen(loaded(), 80, 24, colored, 0);
    expect(lines).toHaveLength(24);
    for (const line of lines) expect(visibleWidth(line)).toBe(80);
    expect(text(lines.slice(-1))).toContain('? help');
  });

  it('below 80x24 shows one clear message and nothing else', () => {
    for (const [w, h] of [
      [79, 24],
      [80, 23],
      [40, 10],
    ] as const) {
      const lines = renderScreen(loaded(), w, h, plain, 0);
      expect(lines).toHaveLength(h);
      const screen = text(lines);
      expect(screen).toContain(`Terminal too small: ${w}x${h}`);
      expect(screen).not.toContain('torrent-1');
      for (const line of lines) expect(visibleWidth(line)).toBe(w);
    }
  });

  it('the help overlay lists every key of the key map', () => {
    const state = loaded();
    state.overlay = { kind: 'help' };
    const screen = text(renderScreen(state, 100, 30, plain, 0));
    expect(screen).toContain('Keys (? or Esc closes)');
    for (const binding of BINDINGS) expect(screen).toContain(binding.help);
  });
});

describe('status bar', () => {
  it('sums the rates, counts torrents, shows free space and the address', () => {
    const line = text([statusBar(loaded(), 120, plain)]);
    expect(line).toMatch(
      /127\.0\.0\.1:9091 ok │ ↓ 2\.00 KiB\/s ↑ 2\.00 KiB\/s │ 2 torrents │ sort name │ free 5\.00 GiB/,
    );
  });

  it('names the address once', () => {
    expect(text([statusBar(loaded(), 200, plain)]).match(/127\.0\.0\.1:9091/g)).toHaveLength(1);
  });

  it('counts what the filter shows', () => {
    const state = loaded();
    state.nameFilter = 'torrent-2';
    expect(text([statusBar(state, 120, plain)])).toContain('1 of 2 torrents');
  });

  it('marks a slow daemon busy and a gone one away, with the reason', () => {
    const state = loaded();
    state.link = 'busy';
    expect(text([statusBar(state, 120, plain)])).toContain('BUSY');
    state.link = 'away';
    state.linkMessage =
      'cannot reach the RPC server at http://127.0.0.1:9091/transmission/rpc: ECONNREFUSED';
    // The URL is left out (the address starts the bar), so the reason fits at 80 columns.
    expect(text([statusBar(state, 80, plain)])).toContain(
      'AWAY reconnecting: cannot reach the RPC server: ECONNREFUSED',
    );
  });
});

describe('bottom line', () => {
  it('shows the prompt being typed, the remove confirmation, or the last message', () => {
    const state = loaded();
    state.overlay = { kind: 'input', purpose: 'add', text: 'magnet:?xt' };
    expect(text([bottomLine(state, 100, plain)])).toContain(
      'Add (magnet link, URL or .torrent path): magnet:?xt█',
    );
    state.overlay = { kind: 'confirm-remove', id: 1, name: 'torrent-1' };
    expect(text([bottomLine(state, 120, plain)])).toContain(
      'Remove "torrent-1"? y = remove (keep data)  D = remove AND delete data',
    );
    state.overlay = { kind: 'none' };
    state.message = { text: 'pausing: failed: nope', error: true };
    expect(bottomLine(state, 100, colored)).toContain('\u001b[31mpausing: failed: nope');
  });
});
