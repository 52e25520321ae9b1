/**
 * A fake TorrentSession that replays a recorded event sequence (no network, no
 * disk): the renderers subscribe to it exactly as to the real engine.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import type { PeerInfo, SessionStats } from '../../src/core/session/torrent-session.ts';
import { SourceCounters } from '../../src/ui/sources.ts';

export interface Recording {
  meta: {
    name: string;
    pieceLength: number;
    pieceCount: number;
    spaceSize: number;
    files: { path: string[]; length: number; offset: number; padding: boolean }[];
  };
  peers: PeerInfo[];
  sources: { trackers: number };
  events: [string, ...unknown[]][];
}

export function loadRecording(name = 'session-recording.json'): Recording {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

const idle: SessionStats = {
  phase: 'checking',
  uploaded: 0,
  downloaded: 0,
  left: 0,
  totalWanted: 0,
  haveWanted: 0,
  downloadRate: 0,
  uploadRate: 0,
  peers: 0,
  knownPeers: 0,
  piecesVerified: 0,
  piecesWanted: 0,
  elapsedMs: 0,
};

export class ReplaySession extends EventEmitter {
  readonly meta: Recording['meta'];
  readonly sources: SourceCounters;
  phase: SessionStats['phase'] = 'checking';
  #stats: SessionStats;
  readonly #recording: Recording;

  constructor(recording: Recording) {
    super();
    this.#recording = recording;
    this.meta = recording.meta;
    this.sources = new SourceCounters(recording.sources.trackers);
    this.#stats = {
      ...idle,
      totalWanted: recording.meta.spaceSize,
      left: recording.meta.spaceSize,
    };
  }

  stats(): SessionStats {
    return { ...this.#stats, phase: this.phase };
  }

  peerInfo(): PeerInfo[] {
    return this.#recording.peers.map((peer) => ({ ...peer }));
  }

  /** Emits recorded events [from, to) in order. */
  replay(from = 0, to = this.#recording.events.length): void {
    for (const [name, ...args] of this.#recording.events.slice(from, to)) {
      if (name === 'tracker-response') {
        this.sources.trackerResponse(args[0] as string, args[1] as number);
        continue;
      }
      if (name === 'phase') this.phase = args[0] as SessionStats['phase'];
      if (name === 'progress') this.#stats = args[0] as SessionStats;
      // SessionUi feeds the counters from the session's peers-found events.
      if (name === 'peers-found') this.sources.peersFound(args[0] as string, args[1] as number);
      this.emit(name, ...args);
    }
  }
}

/** A writable stand-in for a terminal or a pipe: records what was written. */
export class FakeStream extends EventEmitter {
  columns: number | undefined;
  isTTY: boolean;
  output = '';
  constructor(columns?: number, isTTY = columns !== undefined) {
    super();
    this.columns = columns;
    this.isTTY = isTTY;
  }
  write(chunk: string): boolean {
    this.output += chunk;
    return true;
  }
  resize(columns: number): void {
    this.columns = columns;
    this.emit('resize');
  }
}
