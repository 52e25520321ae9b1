/**
 * Writes frames to the terminal, only the lines that changed since the last
 * frame, in one write. An idle screen with one changed number costs one
 * short write, not a redraw.
 */
export class Renderer {
  #previous: string[] = [];
  readonly #write: (text: string) => void;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  /** Forget what is on screen (after a resize or Ctrl-L): the next frame is drawn whole. */
  invalidate(): void {
    this.#previous = [];
  }

  /** Draws `lines` (each exactly the screen's width); returns how many lines were written. */
  draw(lines: string[]): number {
    let out = '';
    let written = 0;
    if (this.#previous.length === 0) out += '\u001b[H\u001b[2J';
    for (const [row, line] of lines.entries()) {
      if (this.#previous[row] === line) continue;
      // Absolute position, the line, then reset attributes so nothing bleeds into the next one.
      out += `\u001b[${row + 1};1H${line}\u001b[0m`;
      written++;
    }
    this.#previous = [...lines];
    if (out) this.#write(out);
    return written;
  }
}
