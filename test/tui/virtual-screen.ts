/**
 * A screen for the app's output in tests: applies what Renderer writes (cursor
 * positioning, clear, text; color escapes dropped) to a grid of rows, so a
 * test reads the screen as a person would, and counts the writes.
 */
import type { TuiScreen } from '../../src/tui/app.ts';

export class VirtualScreen implements TuiScreen {
  columns: number;
  rows: number;
  lines: string[];
  writes: string[] = [];

  constructor(columns = 100, rows = 30) {
    this.columns = columns;
    this.rows = rows;
    this.lines = Array.from({ length: rows }, () => '');
  }

  size(): { columns: number; rows: number } {
    return { columns: this.columns, rows: this.rows };
  }

  write(output: string): void {
    this.writes.push(output);
    let row = 0;
    // eslint-disable-next-line no-control-regex
    for (const part of output.split(/(?=\u001b\[)/)) {
      // eslint-disable-next-line no-control-regex
      const move = /^\u001b\[(\d+);(\d+)H/.exec(part);
      if (move) {
        row = Number(move[1]) - 1;
        this.lines[row] = part.slice(move[0].length);
        continue;
      }
      if (part.startsWith('\u001b[2J')) this.lines = Array.from({ length: this.rows }, () => '');
      // eslint-disable-next-line no-control-regex
      const rest = part.replace(/^\u001b\[[0-9;?]*[a-zA-Z]/, '');
      if (rest && !part.startsWith('\u001b[H')) this.lines[row] = (this.lines[row] ?? '') + rest;
    }
  }

  /** The screen as text, trailing spaces trimmed. */
  text(): string {
    return this.lines.map((line) => line.trimEnd()).join('\n');
  }
}
