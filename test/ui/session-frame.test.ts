import { beforeAll, describe, expect, it, vi } from 'vitest';
import { stripAnsi, visibleWidth } from '../../src/ui/ansi.ts';
import { SessionModel } from '../../src/ui/session-model.ts';
import { renderSessionFrame, type TaskLine } from '../../src/ui/session-frame.ts';
import { createSessionView } from '../../src/ui/session-view.ts';
import { FakeStream, loadRecording, ReplaySession } from './replay.ts';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b/;

function replayed(verbose: boolean) {
  const session = new ReplaySession(loadRecording());
  const model = new SessionModel(session as never, {
    verb: 'download',
    sources: session.sources,
    verbose,
  });
  session.replay();
  return { session, model };
}

const tasks: TaskLine[] = [
  { title: 'Check existing data: 4/40 pieces on disk', state: 'done' },
  { title: 'Download', state: 'running' },
  { title: 'Seed', state: 'waiting' },
];

describe('session frame from recorded engine events', () => {
  for (const width of [40, 80, 200]) {
    for (const verbose of [false, true]) {
      it(`fits ${width} columns${verbose ? ' with the peer table' : ''}`, async () => {
        const { model } = replayed(verbose);
        const lines = renderSessionFrame(model.snapshot(), tasks, width, { color: true });
        for (const line of lines) expect(visibleWidth(line)).toBeLessThan(width);
        await expect(lines.join('\n') + '\n').toMatchFileSnapshot(
          `./fixtures/frame-${width}${verbose ? '-verbose' : ''}.txt`,
        );
      });
    }
  }

  it('shows files in progress from verified pieces and the layout', () => {
    const { model } = replayed(false);
    const snap = model.snapshot();
    // Pieces 0-3 (check) hold README.md and the start of the binary; 24, 25 and 36 came later
    // (the manual's and checksums.txt's first pieces).
    expect(snap.filesDone).toBe(1);
    expect(snap.filesActive.map((file) => file.index)).toEqual([1, 2, 3]);
    expect(snap.sources).toMatchObject({
      trackers: 2,
      trackersAnswered: 1,
      dhtPeers: 12,
      pexPeers: 5,
    });
  });

  it('counts the same file progress whether its first snapshot comes before or after the pieces', () => {
    for (const selected of [null, [0, 2, 3]]) {
      const session = new ReplaySession(loadRecording());
      const options = { verb: 'download', sources: session.sources, selected };
      const early = new SessionModel(session as never, options);
      // Its file table is built now, with nothing verified, and counted up from the events.
      early.snapshot();
      // This one's is built at the end, from the pieces verified meanwhile.
      const late = new SessionModel(session as never, options);
      session.replay();
      const files = (model: SessionModel) => {
        const { filesActive, filesDone, filesTotal } = model.snapshot();
        return { filesActive, filesDone, filesTotal };
      };
      expect(files(late)).toEqual(files(early));
      expect(files(late).filesTotal).toBe(selected ? 3 : 4);
    }
  });
});

describe('session view', () => {
  // The tty view loads listr2 when it first draws (src/ui/session-view.ts). Loaded here once,
  // so each frame test waits for the engine's events, not for a module load that the source
  // build's transform makes slower than a few turns of the event loop.
  beforeAll(async () => {
    await import('listr2');
  });

  it('plain mode: periodic lines without escapes', async () => {
    const session = new ReplaySession(loadRecording());
    const stream = new FakeStream(undefined, false);
    const view = createSessionView(session as never, 'plain', {
      verb: 'download',
      sources: session.sources,
      stream,
      intervalMs: 0,
    });
    session.replay();
    session.phase = 'done';
    session.emit('phase', 'done');
    await view.close();
    expect(stream.output).not.toMatch(ANSI);
    await expect(stream.output).toMatchFileSnapshot('./fixtures/plain.txt');
  });

  for (const width of [40, 80, 200]) {
    it(`tty mode at ${width} columns: frames follow the engine, fit the terminal, the cursor comes back`, async () => {
      // Only the frame timer is faked: each advance draws exactly one frame, whatever the
      // machine's load (listr2's own timers and promises stay real).
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      try {
        const session = new ReplaySession(loadRecording());
        const stream = new FakeStream(width);
        const view = createSessionView(session as never, 'tty', {
          verb: 'download',
          sources: session.sources,
          stream,
          verbose: true,
          frameMs: 5,
        });
        // What the view draws after the engine's events have been handled (listr2 moves its
        // tasks on in promise callbacks) and `advance` has run.
        const frameAfter = async (advance: () => void) => {
          for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate);
          const before = stream.output.length;
          advance();
          return stripAnsi(stream.output.slice(before));
        };

        // After the check, before any progress report: the check is done, nothing downloaded.
        session.replay(0, 6);
        const early = await frameAfter(() => vi.advanceTimersByTime(5));
        expect(early).toContain('✔ Check existing data');
        expect(early).toContain(' 0.0%');

        // After the rest: the recorded progress (22.5% of the wanted bytes) is drawn.
        session.replay(6);
        const late = await frameAfter(() => vi.advanceTimersByTime(5));
        expect(late).toContain(' 22.5%');
        expect(late).not.toContain(' 0.0%');

        // A resize redraws at once, cut to the new width.
        const narrow = Math.max(20, Math.floor(width / 2));
        const resized = await frameAfter(() => stream.resize(narrow));
        expect(resized.length).toBeGreaterThan(0);
        for (const line of resized.split('\n'))
          expect(visibleWidth(line.replace(/\r/g, ''))).toBeLessThan(narrow);

        session.phase = 'stopping';
        session.emit('phase', 'stopping');
        session.phase = 'done';
        session.emit('phase', 'done');
        await view.close();
        for (const line of stream.output.split('\n'))
          expect(visibleWidth(line.replace(/\r/g, ''))).toBeLessThan(width);
        expect(stream.output.startsWith('\u001b[?25l')).toBe(true);
        expect(stream.output.endsWith('\u001b[?25h')).toBe(true);
        expect(stripAnsi(stream.output)).toContain('Download stopped');
        expect(stripAnsi(stream.output)).toContain(
          'release-2026.11/bin/shoal-linux-x64'.slice(-10),
        );
      } finally {
        vi.useRealTimers();
      }
    });
  }
});
