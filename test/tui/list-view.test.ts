import { describe, expect, it } from 'vitest';
import { initialState } from '../../src/tui/state.ts';
import { visibleWidth } from '../../src/tui/text.ts';
import { fitColumns, listView } from '../../src/tui/views/list-view.ts';
import { ascii, colored, plain, text, torrent } from './fake-source.ts';

function stateWith(...torrents: ReturnType<typeof torrent>[]) {
  const state = initialState('x:9091');
  for (const t of torrents) state.torrents.set(t.id, t);
  state.loaded = true;
  return state;
}

describe('list view', () => {
  const state = () =>
    stateWith(
      torrent(1, {
        name: 'ubuntu.iso',
        status: 4,
        percentDone: 0.5,
        rateDownload: 2 * 1024 * 1024,
        eta: 75,
        peersConnected: 7,
      }),
      torrent(2, { name: 'album', status: 0, percentDone: 1 }),
      torrent(3, {
        name: 'broken',
        status: 0,
        error: 3,
        errorString: 'disk full',
        percentDone: 0.1,
      }),
    );

  it('shows every torrent with state, progress, rates, peers and ETA, the first selected', () => {
    const lines = listView(state(), 160, 10, plain);
    const screen = text(lines);
    expect(lines[0]).toMatch(/Name▼ +State +Progress +Size +Down +Up +ETA/);
    expect(screen).toMatch(/▶ +(2 +)?album +Paused +██████████ 100% +2\.00 MiB/);
    expect(screen).toMatch(
      / {2} +1 ubuntu\.iso +Downloading +█████░░░░░ +50% +1\.00 MiB +2\.00 MiB\/s +- +1m15s +7/,
    );
    expect(screen).toMatch(/broken +Error/);
  });

  it('every line is exactly the width, at 80 and at 250 columns', () => {
    for (const width of [80, 250]) {
      for (const line of listView(state(), width, 8, colored))
        expect(visibleWidth(line)).toBe(width);
    }
  });

  it('keeps the important columns when narrow and adds the rest when wide', () => {
    const narrow = fitColumns(80).columns.map((c) => c.title);
    expect(narrow).toEqual(
      expect.arrayContaining(['Name', 'State', 'Progress', 'Size', 'Down', 'Up']),
    );
    expect(narrow).not.toContain("Up'd");
    const wide = fitColumns(250).columns.map((c) => c.title);
    expect(wide).toEqual(expect.arrayContaining(['ID', 'Peers', 'Ratio', "Down'd", "Up'd", 'ETA']));
    expect(fitColumns(250).nameWidth).toBeGreaterThan(fitColumns(80).nameWidth);
    // Names get room before the less important numbers do.
    expect(fitColumns(100).nameWidth).toBeGreaterThanOrEqual(28);
  });

  it('sorts by the chosen key, and reversed', () => {
    const s = state();
    s.sort = 'size';
    expect(text(listView(s, 100, 6, plain)).match(/ubuntu\.iso|album|broken/g)).toEqual([
      'ubuntu.iso',
      'album',
      'broken',
    ]);
    expect(listView(s, 100, 6, plain)[0]).toContain('Size▼');
    s.descending = true;
    expect(text(listView(s, 100, 6, plain)).match(/ubuntu\.iso|album|broken/g)).toEqual([
      'broken',
      'album',
      'ubuntu.iso',
    ]);
  });

  it('filters by name and by state, and says when nothing matches', () => {
    const s = state();
    s.nameFilter = 'UBU';
    expect(text(listView(s, 100, 6, plain))).not.toContain('album');
    s.nameFilter = '';
    s.stateFilter = 'error';
    const screen = text(listView(s, 100, 6, plain));
    expect(screen).toContain('broken');
    expect(screen).not.toContain('album');
    s.nameFilter = 'zzz';
    expect(text(listView(s, 100, 6, plain))).toContain('no torrent matches the filter');
  });

  it('scrolls to keep the selection in view', () => {
    const many = stateWith(
      ...Array.from({ length: 50 }, (_, i) =>
        torrent(i + 1, { name: `t${String(i + 1).padStart(2, '0')}` }),
      ),
    );
    many.selectedId = 40;
    const screen = text(listView(many, 100, 10, plain));
    expect(screen).toMatch(/▶ +(40 +)?t40/);
    expect(screen).not.toContain('t01');
  });

  it('draws with ASCII when the locale is not UTF-8, and no escapes without color', () => {
    const lines = listView(state(), 100, 6, ascii);
    const screen = lines.join('\n');
    expect(screen).toMatch(/> +(2 +)?album/);
    expect(screen).toContain('##########');
    expect(screen).not.toMatch(/[█░▶]/);
    expect(screen).not.toContain('\u001b');
    expect(listView(state(), 100, 6, colored).join('')).toContain('\u001b[');
  });

  it('says connecting before the first answer, and how to add when empty', () => {
    const s = initialState('x:9091');
    expect(text(listView(s, 100, 5, plain))).toContain('connecting…');
    s.link = 'away';
    s.linkMessage = 'cannot reach the RPC server at http://h:1/transmission/rpc: ECONNREFUSED';
    expect(text(listView(s, 100, 5, plain))).toContain(
      'cannot reach the daemon: cannot reach the RPC server: ECONNREFUSED',
    );
    s.loaded = true;
    expect(text(listView(s, 100, 5, plain))).toContain('no torrents: press a to add one');
  });
});
