import { EventEmitter } from 'node:events';
import type { ReadStream, WriteStream } from 'node:tty';
import { afterEach, describe, expect, it } from 'vitest';
import { Terminal } from '../../src/tui/terminal.ts';

/** Stand-ins for the TTY streams: what was written, and the raw-mode switch. */
function fakeTty() {
  const input = Object.assign(new EventEmitter(), {
    raw: false,
    setRawMode(on: boolean) {
      this.raw = on;
      return this;
    },
    setEncoding() {
      return this;
    },
    resume() {
      return this;
    },
    pause() {
      return this;
    },
  });
  const output = Object.assign(new EventEmitter(), {
    written: '',
    columns: 120,
    rows: 40,
    write(text: string) {
      this.written += text;
      return true;
    },
  });
  return { input, output };
}

const ENTER_ALT = '\u001b[?1049h';
const LEAVE_ALT = '\u001b[?1049l';
const HIDE = '\u001b[?25l';
const SHOW = '\u001b[?25h';

const terminals: Terminal[] = [];
afterEach(() => {
  for (const t of terminals.splice(0)) t.restore();
});

/**
 * Calls only the listeners the terminal added for `event` on process (emitting it on
 * process would also reach the test runner's own handlers).
 */
function fire(added: Map<string, Listener[]>, event: string, ...args: unknown[]): void {
  for (const listener of added.get(event) ?? []) listener(...args);
}

type Listener = (...args: unknown[]) => void;

const EVENTS = ['SIGTERM', 'SIGHUP', 'SIGINT', 'exit'] as const;

function start(onExitSignal: (signal: NodeJS.Signals) => void = () => {}) {
  const { input, output } = fakeTty();
  const listeners = (e: string) => process.listeners(e as 'exit') as unknown as Listener[];
  const before = new Map(EVENTS.map((e) => [e, listeners(e)]));
  const terminal = new Terminal(input as unknown as ReadStream, output as unknown as WriteStream);
  terminals.push(terminal);
  const keys: string[] = [];
  let resized = 0;
  terminal.enter({ onKeys: (k) => keys.push(k), onResize: () => resized++, onExitSignal });
  const added = new Map<string, Listener[]>(
    EVENTS.map((e) => [e, listeners(e).filter((l) => !before.get(e)!.includes(l))]),
  );
  return { terminal, input, output, keys, resized: () => resized, added };
}

describe('Terminal', () => {
  it('takes the alternate screen, hides the cursor, reads raw keys and resizes', () => {
    const { terminal, input, output, keys, resized } = start();
    expect(output.written).toContain(ENTER_ALT);
    expect(output.written).toContain(HIDE);
    expect(input.raw).toBe(true);
    input.emit('data', 'j');
    output.emit('resize');
    expect(keys).toEqual(['j']);
    expect(resized()).toBe(1);
    expect(terminal.size).toEqual({ columns: 120, rows: 40 });
  });

  it('restores screen, cursor and cooked mode once, however often asked', () => {
    const { terminal, input, output, added } = start();
    terminal.restore();
    terminal.restore();
    expect(input.raw).toBe(false);
    expect(output.written.split(LEAVE_ALT)).toHaveLength(2);
    expect(output.written.endsWith(`${SHOW}${LEAVE_ALT}`)).toBe(true);
    // Mouse reporting was on (clicks, wheel) and is off again.
    expect(output.written).toContain('\u001b[?1000h');
    expect(output.written).toContain('\u001b[?1000l');
    // Nothing is drawn after the screen was given back, and keys are no longer taken.
    terminal.write('late frame');
    expect(output.written).not.toContain('late frame');
    expect(input.listenerCount('data')).toBe(0);
    expect(process.listeners('exit')).not.toEqual(expect.arrayContaining(added.get('exit')!));
  });

  it('restores before handing on SIGTERM, SIGHUP and SIGINT', () => {
    for (const signal of ['SIGTERM', 'SIGHUP', 'SIGINT'] as const) {
      const seen: string[] = [];
      const { input, output, added } = start((s) =>
        seen.push(`${s} raw=${input.raw} left=${output.written.includes(LEAVE_ALT)}`),
      );
      fire(added, signal, signal);
      expect(seen).toEqual([`${signal} raw=false left=true`]);
    }
  });

  it('restores when the process exits without quitting (a crash)', () => {
    const { input, output, added } = start();
    fire(added, 'exit', 1);
    expect(input.raw).toBe(false);
    expect(output.written).toContain(LEAVE_ALT);
    expect(output.written).toContain(SHOW);
  });
});
