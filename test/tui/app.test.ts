import { afterEach, describe, expect, it, vi } from 'vitest';
import { TuiApp } from '../../src/tui/app.ts';
import { ActionRefused } from '../../src/tui/types.ts';
import { FakeSource, file, plain, torrent } from './fake-source.ts';
import { VirtualScreen } from './virtual-screen.ts';

const apps: TuiApp[] = [];
afterEach(() => {
  for (const app of apps.splice(0)) app.stop();
});

function start(source: FakeSource, screen = new VirtualScreen(100, 30)) {
  const app = new TuiApp({
    source,
    screen,
    theme: plain,
    intervalMs: 60_000,
    parseSize: (t) => {
      const m = /^(\d+)(KiB|MiB)?$/.exec(t);
      if (!m) throw new Error(`invalid limit "${t}"`);
      return Number(m[1]) * (m[2] === 'MiB' ? 1024 * 1024 : m[2] === 'KiB' ? 1024 : 1);
    },
    now: () => 1_800_000_000_000,
  });
  apps.push(app);
  app.start();
  return { app, screen };
}

const waitFor = (check: () => void) => vi.waitFor(check, { timeout: 10_000, interval: 10 });

describe('TuiApp', () => {
  it('draws the list once the first full poll answers', async () => {
    const { screen } = start(
      new FakeSource([torrent(1, { name: 'alpha' }), torrent(2, { name: 'beta' })]),
    );
    expect(screen.text()).toContain('connecting…');
    await waitFor(() => expect(screen.text()).toMatch(/▶ +(1 +)?alpha/));
    expect(screen.text()).toContain('2 torrents');
  });

  it('moves with j/k and arrows, opens details with Enter on the next frame, tabs with Tab and 1-4, Esc goes back', async () => {
    const source = new FakeSource([torrent(1, { name: 'alpha' }), torrent(2, { name: 'beta' })]);
    source.files.set(2, [file(0, 'beta/a.bin'), file(1, 'beta/b.bin')]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('alpha'));
    app.input('j');
    expect(screen.text()).toMatch(/▶ +(2 +)?beta/);
    app.input('\u001b[A\u001b[B');
    expect(screen.text()).toMatch(/▶ +(2 +)?beta/);
    app.input('\r');
    // Drawn at once from the list's data; the tab's data follows.
    expect(screen.text()).toContain('[1 Files]');
    expect(screen.text()).toContain(' beta  Seeding');
    await waitFor(() => expect(screen.text()).toContain('a.bin'));
    app.input('\t');
    expect(screen.text()).toContain('[2 Peers]');
    await waitFor(() => expect(source.calls).toContain('detail 2 peers'));
    app.input('4');
    await waitFor(() => expect(screen.text()).toContain('4/8 pieces'));
    app.input('\u001b[Z');
    expect(screen.text()).toContain('[3 Trackers]');
    app.input('\u001b');
    expect(screen.text()).toMatch(/▶ +(2 +)?beta/);
  });

  it('space toggles a file (or a folder) in the daemon and shows it at once', async () => {
    const source = new FakeSource([torrent(1)]);
    source.files.set(1, [file(0, 'dir/a.bin'), file(1, 'dir/b.bin')]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('torrent-1'));
    app.input('\r');
    await waitFor(() => expect(screen.text()).toContain('b.bin'));
    app.input('jj ');
    expect(screen.text()).toMatch(/▶ \[ \] +b\.bin/);
    await waitFor(() => expect(source.calls).toContain('wanted 1 1 false'));
    app.input('g ');
    await waitFor(() => expect(source.calls).toContain('wanted 1 0,1 true'));
    app.input('+');
    await waitFor(() => expect(source.calls).toContain('priority 1 0,1 1'));
  });

  it('p pauses a running torrent and resumes a paused one', async () => {
    const source = new FakeSource([torrent(1, { status: 6 })]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('Seeding'));
    app.input('p');
    await waitFor(() => expect(screen.text()).toContain('Paused'));
    expect(source.calls).toContain('stop 1');
    app.input('p');
    await waitFor(() => expect(source.calls).toContain('start 1'));
  });

  it('r asks first: n and Esc cancel, y removes keeping data, D deletes the data too', async () => {
    const source = new FakeSource([torrent(1), torrent(2), torrent(3)]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('torrent-3'));
    app.input('r');
    expect(screen.text()).toContain('Remove "torrent-1"?');
    app.input('n');
    app.input('r\u001b');
    expect(source.calls.filter((c) => c.startsWith('remove'))).toEqual([]);
    app.input('ry');
    await waitFor(() => expect(source.calls).toContain('remove 1'));
    await waitFor(() => expect(screen.text()).not.toContain('torrent-1'));
    app.input('rD');
    await waitFor(() => expect(source.calls).toContain('remove 2 delete-data'));
  });

  it('a adds what is typed; / filters as you type; s sorts; f filters by state', async () => {
    const source = new FakeSource([
      torrent(1, { name: 'alpha', status: 0 }),
      torrent(2, { name: 'beta', sizeWhenDone: 1 }),
    ]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('beta'));
    app.input('amagnet:?xt=urn:btih:abc\r');
    await waitFor(() => expect(source.calls).toContain('add magnet:?xt=urn:btih:abc'));
    app.input('/bet');
    expect(screen.text()).not.toContain('alpha');
    expect(screen.text()).toContain('Filter by name: bet');
    app.input('\r');
    expect(screen.text()).toContain('filter name~"bet"');
    app.input('/\u001b');
    expect(screen.text()).toContain('alpha');
    app.input('ss');
    expect(screen.text()).toContain('sort size');
    expect(screen.text().indexOf('beta')).toBeLessThan(screen.text().indexOf('alpha'));
    app.input('fff');
    expect(screen.text()).toContain('filter paused');
    expect(screen.text()).not.toMatch(/beta +Seeding/);
  });

  it('l sets limits; a bad value is one red line, nothing sent', async () => {
    const source = new FakeSource([torrent(1)]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('torrent-1'));
    app.input('l2MiB,500KiB\r');
    await waitFor(() =>
      expect(source.calls).toContain(`limits 1 ${2 * 1024 * 1024} ${500 * 1024}`),
    );
    app.input('l,\r');
    await waitFor(() => expect(source.calls).toContain('limits 1 none none'));
    app.input('lfast\r');
    expect(screen.text()).toContain('invalid limit "fast"');
  });

  it('? shows the help overlay and closes it; q resolves done', async () => {
    const { app, screen } = start(new FakeSource([torrent(1)]));
    app.input('?');
    expect(screen.text()).toContain('Keys (? or Esc closes)');
    app.input('?');
    expect(screen.text()).not.toContain('Keys (? or Esc closes)');
    app.input('q');
    await app.done;
  });

  it('keys are answered while the daemon is slow, and the status bar says busy', async () => {
    const source = new FakeSource([torrent(1, { name: 'alpha' }), torrent(2, { name: 'beta' })]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('beta'));
    let release!: () => void;
    source.gate = new Promise((resolve) => (release = resolve));
    app.input('p');
    app.input('j');
    // The selection moved although the pause call has not returned.
    expect(screen.text()).toMatch(/▶ +(2 +)?beta/);
    await waitFor(() => expect(screen.text()).toContain('BUSY'));
    release();
    source.gate = undefined;
    await waitFor(() => expect(screen.text()).toContain('fake:9091 ok'));
  });

  it('says the daemon is away when calls fail, and recovers with a full refresh when it is back', async () => {
    const source = new FakeSource([torrent(1)]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('torrent-1'));
    source.down = 'cannot reach the RPC server: ECONNREFUSED';
    app.input('p');
    await waitFor(() =>
      expect(screen.text()).toContain(
        'AWAY reconnecting: cannot reach the RPC server: ECONNREFUSED',
      ),
    );
    expect(screen.text()).toContain('pausing "torrent-1": failed');
    source.down = undefined;
    source.torrents.set(2, torrent(2));
    source.listCalls.length = 0;
    app.input('v');
    await waitFor(() => expect(screen.text()).toContain('fake:9091 ok'));
    await waitFor(() => expect(source.listCalls).toContain(true));
    await waitFor(() => expect(screen.text()).toContain('torrent-2'));
  });

  it('a refused action says why in its message, without marking the link away', async () => {
    const source = new FakeSource([torrent(1)]);
    source.stop = async () => {
      throw new ActionRefused('pause is not available here');
    };
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('torrent-1'));
    app.input('p');
    await waitFor(() =>
      expect(screen.text()).toContain('pausing "torrent-1": failed: pause is not available here'),
    );
    expect(screen.text()).toContain('fake:9091 ok');
    expect(screen.text()).not.toContain('AWAY');
  });

  it('shows what the program says (notify), and a finished torrent as Finished', async () => {
    const source = new FakeSource([torrent(1, { status: 0, isFinished: true })]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toMatch(/torrent-1 +Finished/));
    app.notify('complete: /data/torrent-1 (q quits)');
    await waitFor(() => expect(screen.text()).toContain('complete: /data/torrent-1 (q quits)'));
  });

  it('the mouse: a click selects, a second opens, the tab bar switches tabs, the wheel scrolls', async () => {
    const source = new FakeSource([
      torrent(1, { name: 'alpha' }),
      torrent(2, { name: 'beta' }),
      torrent(3, { name: 'gamma' }),
    ]);
    source.files.set(3, [file(0, 'g/one.bin'), file(1, 'g/two.bin')]);
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('gamma'));
    const click = (column: number, row: number) =>
      app.input(`\u001b[<0;${column + 1};${row + 1}M\u001b[<0;${column + 1};${row + 1}m`);
    // Screen row 0 is the header; gamma is on row 3.
    click(10, 3);
    expect(screen.text()).toMatch(/▶ +(3 +)?gamma/);
    app.input('\u001b[<64;1;1M');
    expect(screen.text()).toMatch(/▶ +(2 +)?beta/);
    app.input('\u001b[<65;1;1M');
    click(10, 3);
    expect(screen.text()).toContain('[1 Files]');
    await waitFor(() => expect(screen.text()).toContain('two.bin'));
    // Files: the tab's header is row 3, its rows from 4 (g/ at 4, one.bin at 5, two.bin at 6).
    click(10, 6);
    expect(screen.text()).toMatch(/▶ \[x\] +two\.bin/);
    // The tab bar is row 2: " 1 Files   2 Peers   3 Trackers   4 Pieces".
    click(24, 2);
    expect(screen.text()).toContain('[3 Trackers]');
    click(36, 2);
    expect(screen.text()).toContain('[4 Pieces]');
  });

  it('redraws only the lines that changed', async () => {
    const source = new FakeSource(Array.from({ length: 10 }, (_, i) => torrent(i + 1)));
    const { app, screen } = start(source);
    await waitFor(() => expect(screen.text()).toContain('torrent-10'));
    screen.writes.length = 0;
    app.input('j');
    // The old and the new selected row (the help bar is unchanged).
    expect(screen.writes).toHaveLength(1);
    // eslint-disable-next-line no-control-regex
    expect(screen.writes[0]!.match(/\u001b\[\d+;1H/g)).toHaveLength(2);
    app.render();
    expect(screen.writes).toHaveLength(1);
  });

  it('a resize redraws everything at the new size; too small says so', async () => {
    const screen = new VirtualScreen(100, 30);
    const { app } = start(new FakeSource([torrent(1)]), screen);
    await waitFor(() => expect(screen.text()).toContain('torrent-1'));
    screen.columns = 60;
    screen.rows = 20;
    app.resize();
    expect(screen.text()).toContain('Terminal too small: 60x20');
    screen.columns = 200;
    screen.rows = 40;
    screen.lines = Array.from({ length: 40 }, () => '');
    app.resize();
    expect(screen.lines[0]!.length).toBe(200);
    expect(screen.text()).toContain("Up'd");
  });
});
