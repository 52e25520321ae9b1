/**
 * Progress of the metadata phase of a magnet download (before the torrent's
 * contents are known): how many peers were found and connected, and how many
 * metadata pieces have arrived. One short line per milestone on stderr.
 */
import type { MetadataEvent } from '../core/metadata/index.ts';
import type { OutputMode } from './output-mode.ts';

export function createMetadataView(mode: OutputMode, name: string): (event: MetadataEvent) => void {
  if (mode === 'quiet') return () => {};
  const write = (line: string) => process.stderr.write(`metadata ${name}: ${line}\n`);
  let found = 0;
  let connected = 0;
  let announcedSize = false;
  write('looking for peers');
  return (event) => {
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
}
