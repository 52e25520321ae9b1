/**
 * Progress of the metadata phase of a magnet download (before the torrent's
 * contents are known): how many peers were found and connected, and how many
 * metadata pieces have arrived. Plain mode: one short line per milestone;
 * tty: one line redrawn in place, left as a summary when done.
 */
import type { MetadataEvent } from '../core/metadata/index.ts';
import { paint } from './ansi.ts';
import { LiveRegion, type TerminalStream } from './live-region.ts';
import type { OutputMode } from './output-mode.ts';

export interface MetadataView {
  (event: MetadataEvent): void;
  /** Ends the view (the tty line becomes a final one); safe to call twice. */
  done(ok: boolean): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createMetadataView(
  mode: OutputMode,
  name: string,
  stream: TerminalStream = process.stderr,
): MetadataView {
  if (mode === 'quiet') return Object.assign(() => {}, { done() {} });
  let found = 0;
  let connected = 0;
  let size = 0;
  let received = 0;
  let pieces = 0;

  if (mode === 'tty') {
    const region = new LiveRegion(stream);
    let tick = 0;
    let ended = false;
    const state = () =>
      `metadata ${name}: ${found} peer(s) found, ${connected} connected` +
      (pieces > 0 ? `, ${received}/${pieces} piece(s)` : '');
    const draw = () =>
      region.update([`${paint('cyan', SPINNER[tick % SPINNER.length])} ${state()}`]);
    const timer = setInterval(() => {
      tick++;
      draw();
    }, 200);
    timer.unref();
    draw();
    const view = (event: MetadataEvent) => {
      if (event.type === 'peers-found') found = Math.max(found, event.total);
      if (event.type === 'peer-connected') connected++;
      if (event.type === 'peer-has-metadata') size = event.size;
      if (event.type === 'piece') {
        received = event.received;
        pieces = event.pieceCount;
      }
      if (event.type === 'warning') region.log(`warning: ${event.message}`);
      if (event.type === 'mismatch')
        region.log('received metadata did not match the info-hash; trying other peers');
    };
    return Object.assign(view, {
      done(ok: boolean) {
        if (ended) return;
        ended = true;
        clearInterval(timer);
        region.done([
          ok
            ? `${paint('green', '✔')} Metadata: ${size} bytes from ${connected} peer(s)`
            : `${paint('red', '✖')} ${state()}`,
        ]);
      },
    });
  }

  const write = (line: string) => stream.write(`metadata ${name}: ${line}\n`);
  let announcedSize = false;
  write('looking for peers');
  const view = (event: MetadataEvent) => {
    switch (event.type) {
      case 'peers-found':
        // Report growth in steps, not every single address.
        if (event.total >= Math.max(1, found * 2))
          write(`${event.total} peer(s) found (latest from ${event.source})`);
        found = Math.max(found, event.total);
        return;
      case 'peer-connected':
        connected++;
        if (connected === 1) write('connected to a peer, asking for the metadata');
        return;
      case 'peer-has-metadata':
        if (!announcedSize) write(`metadata is ${event.size} bytes`);
        announcedSize = true;
        return;
      case 'piece':
        if (event.received === event.pieceCount)
          write(`received all ${event.pieceCount} metadata piece(s)`);
        return;
      case 'mismatch':
        write('received metadata did not match the info-hash; trying other peers');
        return;
      case 'warning':
        write(`warning: ${event.message}`);
        return;
      default:
        return;
    }
  };
  return Object.assign(view, { done() {} });
}
