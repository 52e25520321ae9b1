import { describe, expect, it } from 'vitest';
import { initialState } from '../../src/tui/state.ts';
import { visibleWidth } from '../../src/tui/text.ts';
import { detailView } from '../../src/tui/views/detail-view.ts';
import { fileRows, filesTab } from '../../src/tui/views/files-tab.ts';
import { peersTab } from '../../src/tui/views/peers-tab.ts';
import { pieceCells, piecesTab } from '../../src/tui/views/pieces-tab.ts';
import { trackersTab } from '../../src/tui/views/trackers-tab.ts';
import { ascii, colored, file, plain, text, torrent } from './fake-source.ts';

const NOW = 1_800_000_000;

describe('detail view', () => {
  it('shows the torrent summary and tab bar at once, before the tab data arrives', () => {
    const state = initialState('x');
    state.torrents.set(
      5,
      torrent(5, { name: 'ubuntu.iso', status: 4, percentDone: 0.25, peersConnected: 3 }),
    );
    state.view = 'detail';
    state.detail = { id: 5 };
    const screen = text(detailView(state, 100, 20, plain, NOW));
    expect(screen).toContain('ubuntu.iso  Downloading');
    expect(screen).toMatch(/25% of 5\.00 MiB .* 3 peers/);
    expect(screen).toMatch(/\[1 Files\] +2 Peers +3 Trackers +4 Pieces/);
    expect(screen).toContain('loading files…');
    state.tab = 'pieces';
    expect(text(detailView(state, 100, 20, plain, NOW))).toContain('loading pieces…');
  });

  it('marks the open tab with brackets, in reverse video with color', () => {
    const state = initialState('x');
    state.torrents.set(1, torrent(1));
    state.view = 'detail';
    state.detail = { id: 1 };
    state.tab = 'trackers';
    expect(text(detailView(state, 100, 10, plain, NOW))).toContain('[3 Trackers]');
    expect(detailView(state, 100, 10, colored, NOW)[2]).toContain(
      '\u001b[7m[3 Trackers]\u001b[27m',
    );
  });
});

describe('files tab', () => {
  const files = [
    file(0, 'album/cd1/01.flac', { length: 3000, bytesCompleted: 3000 }),
    file(1, 'album/cd1/02.flac', { length: 1000, bytesCompleted: 0, wanted: false, priority: -1 }),
    file(2, 'album/cover.jpg', { length: 500, bytesCompleted: 250, priority: 1 }),
  ];

  it('builds a tree whose folders sum what is under them', () => {
    const rows = fileRows(files);
    expect(rows.map((r) => `${'  '.repeat(r.depth)}${r.label}`)).toEqual([
      'album/',
      '  cd1/',
      '    01.flac',
      '    02.flac',
      '  cover.jpg',
    ]);
    expect(rows[0]).toMatchObject({
      folder: true,
      files: [0, 1, 2],
      length: 4500,
      completed: 3250,
      wanted: 'some',
      priority: undefined,
    });
    expect(rows[1]).toMatchObject({ files: [0, 1], wanted: 'some' });
    expect(rows[3]).toMatchObject({ wanted: 'none', priority: -1 });
  });

  it('draws wanted, skipped and mixed boxes, sizes, progress and priority, the cursor on its row', () => {
    const screen = text(filesTab(files, 3, 100, 10, plain));
    expect(screen).toMatch(/\[~\] +▸ album\/ +4\.39 KiB/);
    expect(screen).toMatch(/▶ \[ \] +02\.flac +1000 B +░░░░░░░░░░ +0% low/);
    expect(screen).toMatch(/\[x\] +cover\.jpg +500 B +█████░░░░░ +50% high/);
    expect(screen).toMatch(/album\/.*mixed/);
  });

  it('a single-file torrent is one row', () => {
    expect(fileRows([file(0, 'disk.iso')]).map((r) => r.label)).toEqual(['disk.iso']);
  });

  it('says so while a magnet has no metadata', () => {
    expect(text(filesTab([], 0, 80, 5, plain))).toContain('metadata is still being fetched');
  });
});

describe('peers tab', () => {
  it('lists address, client, flags, rates and progress, fastest first', () => {
    const peers = [
      {
        address: '10.0.0.2',
        port: 6881,
        clientName: 'Transmission 3.00',
        flagStr: 'TE',
        rateToClient: 0,
        rateToPeer: 2048,
        progress: 1,
      },
      {
        address: '2001:db8::1',
        port: 51413,
        clientName: 'libtorrent',
        flagStr: 'DEI',
        rateToClient: 1048576,
        rateToPeer: 0,
        progress: 0.5,
      },
    ];
    const lines = peersTab(peers, 0, 120, 6, plain);
    const screen = text(lines);
    expect(lines[0]).toMatch(/Address +Client +Flags +Down +Up +Has/);
    expect(screen).toMatch(/\[2001:db8::1\]:51413 +libtorrent +DEI +1\.00 MiB\/s +- +50%/);
    expect(screen).toMatch(/10\.0\.0\.2:6881 +Transmission 3\.00 +TE +- +2\.00 KiB\/s +100%/);
    expect(screen.indexOf('2001:db8')).toBeLessThan(screen.indexOf('10.0.0.2'));
    for (const line of lines) expect(visibleWidth(line)).toBe(120);
  });

  it('shows a dash where the source does not know how much a peer has', () => {
    const peer = {
      address: '127.0.0.1',
      port: 6881,
      clientName: 'shoal',
      flagStr: 'D',
      rateToClient: 1024,
      rateToPeer: 0,
      progress: -1,
    };
    expect(text(peersTab([peer], 0, 100, 4, plain))).toMatch(
      /127\.0\.0\.1:6881 +shoal +D +1\.00 KiB\/s +- +-\s*$/m,
    );
  });
});

describe('trackers tab', () => {
  it('shows tier, URL, last result and time, swarm counts and the next announce', () => {
    const trackers = [
      {
        tier: 0,
        announce: 'http://tracker.example/announce',
        lastAnnounceResult: 'Success',
        lastAnnounceSucceeded: true,
        lastAnnounceTime: NOW - 120,
        nextAnnounceTime: NOW + 1680,
        seederCount: 12,
        leecherCount: 3,
      },
      {
        tier: 1,
        announce: 'udp://down.example:6969',
        lastAnnounceResult: 'Connection failed',
        lastAnnounceSucceeded: false,
        lastAnnounceTime: NOW - 5,
        nextAnnounceTime: NOW + 60,
        seederCount: -1,
        leecherCount: -1,
      },
    ];
    const screen = text(trackersTab(trackers, 0, 140, 6, plain, NOW));
    expect(screen).toMatch(
      /0 http:\/\/tracker\.example\/announce +Success +2m00s ago +12 +3 +in 28m00s/,
    );
    expect(screen).toMatch(
      /1 udp:\/\/down\.example:6969 +Connection failed +5s ago +- +- +in 1m00s/,
    );
  });
});

describe('pieces tab', () => {
  it('one cell per piece when they fit', () => {
    const screen = text(
      piecesTab(
        { pieceCount: 10, bitfield: Uint8Array.of(0b1010_0000, 0b1100_0000) },
        80,
        5,
        plain,
      ),
    );
    expect(screen).toContain('█░█░░░░░██');
    expect(screen).toContain('4/10 pieces');
  });

  it('runs of pieces per cell when there are more pieces than cells: all, some or none', () => {
    // 16 pieces in 4 cells: the first 4 all present, the next 4 half, the rest none.
    const bitfield = Uint8Array.of(0b1111_1010, 0);
    expect(pieceCells({ pieceCount: 16, bitfield }, 4)).toEqual([1, 0.5, 0, 0]);
    const screen = text(
      piecesTab({ pieceCount: 4000, bitfield: new Uint8Array(500).fill(0xff) }, 80, 6, ascii),
    );
    expect(screen).toContain('4000/4000 pieces');
    expect(screen).toMatch(/per cell/);
    expect(screen).toMatch(/#{76}/);
  });
});
