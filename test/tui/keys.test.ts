import { describe, expect, it } from 'vitest';
import { parseKeys } from '../../src/tui/keys.ts';
import { actionFor, BINDINGS } from '../../src/tui/keymap.ts';

describe('parseKeys', () => {
  it('names arrows, paging, Home/End in their xterm and vt forms', () => {
    const names = parseKeys(
      '\u001b[A\u001b[B\u001bOC\u001b[D\u001b[5~\u001b[6~\u001b[H\u001b[4~\u001b[Z',
    ).map((k) => k.name);
    expect(names).toEqual([
      'up',
      'down',
      'right',
      'left',
      'pageup',
      'pagedown',
      'home',
      'end',
      'shift-tab',
    ]);
  });

  it('splits a chunk of typing into keys, with characters for text input', () => {
    expect(parseKeys('ab \r\t\u007f\u0003')).toEqual([
      { name: 'a', char: 'a' },
      { name: 'b', char: 'b' },
      { name: 'space', char: ' ' },
      { name: 'enter' },
      { name: 'tab' },
      { name: 'backspace' },
      { name: 'ctrl-c' },
    ]);
  });

  it('a lone Esc is escape; unknown sequences (F-keys, right clicks) are skipped whole', () => {
    expect(parseKeys('\u001b').map((k) => k.name)).toEqual(['escape']);
    expect(parseKeys('\u001b[15~q\u001b[<2;3;4Mj').map((k) => k.name)).toEqual(['q', 'j']);
  });
});

describe('key map', () => {
  it('no key means two things in the same view', () => {
    for (const view of ['list', 'detail'] as const) {
      const seen = new Map<string, string>();
      for (const b of BINDINGS.filter((b) => b.in === 'both' || b.in === view)) {
        for (const key of b.keys) {
          expect(seen.get(key), `${key} in ${view}`).toBeUndefined();
          seen.set(key, b.action);
        }
      }
    }
  });

  it('Enter opens only in the list, Esc and Space work only in details', () => {
    expect(actionFor('enter', 'list')).toBe('open');
    expect(actionFor('enter', 'detail')).toBeUndefined();
    expect(actionFor('escape', 'detail')).toBe('back');
    expect(actionFor('space', 'list')).toBeUndefined();
    expect(actionFor('q', 'detail')).toBe('quit');
  });
});

describe('mouse reports', () => {
  it('left press is a click at a 0-based cell; its release and other buttons are dropped', () => {
    expect(parseKeys('\u001b[<0;5;3M\u001b[<0;5;3m')).toEqual([
      { name: 'click', column: 4, row: 2 },
    ]);
    expect(parseKeys('\u001b[<2;1;1M\u001b[<32;9;9Mq').map((k) => k.name)).toEqual(['q']);
  });

  it('the wheel scrolls', () => {
    expect(parseKeys('\u001b[<64;10;10M\u001b[<65;10;10M').map((k) => k.name)).toEqual([
      'wheelup',
      'wheeldown',
    ]);
  });
});
