/**
 * Turns what the terminal sends in raw mode into key names: printable
 * characters as themselves, the rest as words ('up', 'enter', 'ctrl-c'...).
 * One chunk may hold several keys (fast typing, pastes, tmux send-keys).
 * Mouse reports become 'click' (left button, with the cell), 'wheelup' and 'wheeldown'.
 */
export interface Key {
  /** 'a', 'A', '?', ' ' (as 'space'), or a named key. */
  name: string;
  /** The character typed, for text input; absent for named keys. */
  char?: string;
  /** For 'click': the cell clicked, 0-based. */
  column?: number;
  row?: number;
}

/** SGR mouse reports (xterm mode 1006): button;column;row, M for a press, m for a release. */
// eslint-disable-next-line no-control-regex
const MOUSE = /^\u001b\[<(\d+);(\d+);(\d+)([Mm])/;

function mouseKey(button: number, column: number, row: number, press: boolean): Key | undefined {
  if (button === 64) return { name: 'wheelup' };
  if (button === 65) return { name: 'wheeldown' };
  // A left press (not the release, nor a drag) selects.
  if (button === 0 && press) return { name: 'click', column: column - 1, row: row - 1 };
  return undefined;
}

const SEQUENCES: [string, string][] = [
  ['\u001b[A', 'up'],
  ['\u001b[B', 'down'],
  ['\u001b[C', 'right'],
  ['\u001b[D', 'left'],
  ['\u001bOA', 'up'],
  ['\u001bOB', 'down'],
  ['\u001bOC', 'right'],
  ['\u001bOD', 'left'],
  ['\u001b[5~', 'pageup'],
  ['\u001b[6~', 'pagedown'],
  ['\u001b[H', 'home'],
  ['\u001b[F', 'end'],
  ['\u001bOH', 'home'],
  ['\u001bOF', 'end'],
  ['\u001b[1~', 'home'],
  ['\u001b[4~', 'end'],
  ['\u001b[7~', 'home'],
  ['\u001b[8~', 'end'],
  ['\u001b[3~', 'delete'],
  ['\u001b[Z', 'shift-tab'],
];

const CONTROLS: Record<string, string> = {
  '\r': 'enter',
  '\n': 'enter',
  '\t': 'tab',
  '\u007f': 'backspace',
  '\b': 'backspace',
  '\u0003': 'ctrl-c',
  '\u0004': 'ctrl-d',
  '\u000c': 'ctrl-l',
  '\u0015': 'ctrl-u',
};

export function parseKeys(data: string): Key[] {
  const keys: Key[] = [];
  let i = 0;
  while (i < data.length) {
    const rest = data.slice(i);
    const sequence = SEQUENCES.find(([bytes]) => rest.startsWith(bytes));
    if (sequence) {
      keys.push({ name: sequence[1] });
      i += sequence[0].length;
      continue;
    }
    const mouse = MOUSE.exec(rest);
    if (mouse) {
      const key = mouseKey(Number(mouse[1]), Number(mouse[2]), Number(mouse[3]), mouse[4] === 'M');
      if (key) keys.push(key);
      i += mouse[0].length;
      continue;
    }
    if (rest.startsWith('\u001b[') || rest.startsWith('\u001bO')) {
      // An escape sequence we do not know (function keys, other mouse buttons): skip it whole.
      const end = rest.slice(2).search(/[@-~]/);
      i += end < 0 ? rest.length : end + 3;
      continue;
    }
    const ch = String.fromCodePoint(data.codePointAt(i)!);
    i += ch.length;
    if (ch === '\u001b') keys.push({ name: 'escape' });
    else if (CONTROLS[ch]) keys.push({ name: CONTROLS[ch] });
    else if (ch === ' ') keys.push({ name: 'space', char: ' ' });
    else if (ch >= ' ') keys.push({ name: ch, char: ch });
  }
  return keys;
}
