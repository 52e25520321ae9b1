import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commandDefs } from '../../completions/generate.ts';
import { stripAnsi, truncate, visibleWidth } from '../../src/ui/ansi.ts';
import { createByteProgress } from '../../src/ui/byte-progress.ts';
import { bashCompletion, zshCompletion } from '../../src/ui/completions.ts';
import { fileTree, renderInspect } from '../../src/ui/inspect-view.ts';
import { LiveRegion } from '../../src/ui/live-region.ts';
import { decideOutputMode } from '../../src/ui/output-mode.ts';
import { FakeStream } from './replay.ts';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b/;

describe('output mode', () => {
  it('redraws only on a terminal without NO_COLOR, TERM=dumb or CI', () => {
    const tty = { isTTY: true };
    expect(decideOutputMode({}, {}, tty)).toBe('tty');
    expect(decideOutputMode({}, {}, { isTTY: false })).toBe('plain');
    expect(decideOutputMode({}, { NO_COLOR: '1' }, tty)).toBe('plain');
    expect(decideOutputMode({}, { TERM: 'dumb' }, tty)).toBe('plain');
    expect(decideOutputMode({}, { CI: 'true' }, tty)).toBe('plain');
    expect(decideOutputMode({ quiet: true }, {}, tty)).toBe('quiet');
    expect(decideOutputMode({ json: true }, {}, tty)).toBe('quiet');
  });
});

describe('LiveRegion', () => {
  it('cuts lines to the width and erases reflowed rows after a resize', () => {
    const stream = new FakeStream(20);
    const region = new LiveRegion(stream);
    region.update(['x'.repeat(50), 'short']);
    expect(stream.output).toBe(`\u001b[?25l\r\u001b[J${'x'.repeat(18)}…\nshort\n`);
    stream.output = '';
    // 19 columns drawn, now 10 wide: the first line takes 2 rows, the second 1.
    stream.resize(10);
    expect(stream.output).toBe(`\r\u001b[3A\u001b[J${'x'.repeat(8)}…\nshort\n`);
    stream.output = '';
    region.done(['bye']);
    expect(stream.output).toBe('\r\u001b[2A\u001b[Jbye\n\u001b[?25h');
  });

  it('truncate keeps escapes and marks the cut', () => {
    expect(truncate('\u001b[32mhello world\u001b[39m', 6)).toBe(
      '\u001b[32mhello\u001b[39m…\u001b[0m',
    );
    expect(truncate('short', 10)).toBe('short');
  });
});

describe('byte progress', () => {
  for (const width of [40, 80, 200]) {
    it(`tty bar fits ${width} columns`, () => {
      const stream = new FakeStream(width);
      let now = 0;
      const progress = createByteProgress('tty', 'hashing', 1_000_000_000, {
        stream,
        now: () => now,
      });
      for (let i = 1; i <= 10; i++) {
        now += 1000;
        progress.update(i * 50_000_000);
      }
      progress.stop();
      // A carriage return moves the cursor; it takes no column.
      for (const line of stream.output.split('\n'))
        expect(visibleWidth(line.replace(/\r/g, ''))).toBeLessThan(width);
      expect(stripAnsi(stream.output)).toContain('hashing: done 477 MiB in 10s');
      expect(stream.output.endsWith('\u001b[?25h')).toBe(true);
    });
  }

  it('plain lines every interval, no escapes, and --events progress through onBytes', () => {
    const stream = new FakeStream(undefined, false);
    const told: number[] = [];
    let now = 0;
    const progress = createByteProgress('plain', 'verify', 4096, {
      stream,
      now: () => now,
      intervalMs: 5000,
      onBytes: (bytes) => told.push(bytes),
    });
    for (let i = 1; i <= 4; i++) {
      now += 2500;
      progress.update(i * 1024);
    }
    progress.stop();
    expect(stream.output).not.toMatch(ANSI);
    expect(stream.output).toBe(
      'verify: 50.0% 2.00 KiB/4.00 KiB 410 B/s ETA 5s\nverify: 100.0% 4.00 KiB/4.00 KiB 410 B/s ETA 0s\nverify: done 4.00 KiB in 10s (410 B/s)\n',
    );
    expect(told).toEqual([1024, 2048, 3072, 4096, 4096]);
  });
});

describe('inspect --files', () => {
  const files = [
    { path: 'album/cd1/01 intro.flac', length: 1_000_000, padding: false },
    { path: 'album/.pad/1', length: 1000, padding: true },
    { path: 'album/cd1/02 song.flac', length: 2_000_000, padding: false },
    { path: 'album/cover.jpg', length: 50_000, padding: false },
  ];
  it('a tree with sizes and the --select indexes on a terminal', () => {
    expect(fileTree(files)).toEqual([
      '        2.91 MiB  └── album/',
      '        2.86 MiB      ├── cd1/',
      '  [0]    977 KiB      │   ├── 01 intro.flac',
      '  [2]   1.91 MiB      │   └── 02 song.flac',
      '  [3]   48.8 KiB      └── cover.jpg',
    ]);
  });
  it('the flat list with indexes elsewhere', () => {
    const text = renderInspect(
      {
        name: 'album',
        infoHash: 'ab'.repeat(20),
        infoHashV2: null,
        version: 'v1',
        pieceLength: 16384,
        pieceCount: 1,
        totalSize: 3_050_000,
        private: false,
        files,
        trackers: [],
        webSeeds: [],
        comment: null,
        createdBy: null,
        creationDate: null,
        source: null,
        magnet: 'magnet:?xt=urn:btih:' + 'ab'.repeat(20),
      } as never,
      { files: true, tree: false },
    );
    expect(text).toContain(
      '  0     977 KiB  album/cd1/01 intro.flac\n  2    1.91 MiB  album/cd1/02 song.flac',
    );
  });
});

describe('shell completion', () => {
  const defs = commandDefs();
  const bash = readFileSync(new URL('../../completions/shoal.bash', import.meta.url), 'utf8');
  const zsh = readFileSync(new URL('../../completions/_shoal', import.meta.url), 'utf8');

  it('the committed scripts are the generated ones (run node completions/generate.ts)', () => {
    expect(bash).toBe(bashCompletion(defs));
    expect(zsh).toBe(zshCompletion(defs));
  });

  it('every flag of every command appears in both', () => {
    for (const [command, def] of Object.entries(defs)) {
      const bashCase = bash.slice(bash.indexOf(`    ${command})`));
      const bashOpts = /opts="([^"]*)"/.exec(bashCase)?.[1].split(' ') ?? [];
      const zshFunction = zsh.slice(zsh.indexOf(`_shoal_${command}()`));
      const zshBody = zshFunction.slice(0, zshFunction.indexOf('\n}'));
      for (const [flag, spec] of Object.entries(def.flags)) {
        expect(bashOpts, `${command} --${flag}`).toContain(`--${flag}`);
        expect(zshBody, `${command} --${flag}`).toContain(`--${flag}`);
        if (spec.char) expect(bashOpts, `${command} -${spec.char}`).toContain(`-${spec.char}`);
        if (spec.allowNo) expect(bashOpts).toContain(`--no-${flag}`);
      }
      expect(bash).toContain(command);
    }
  });
});
