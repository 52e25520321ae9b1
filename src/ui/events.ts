/**
 * `--events`: one JSON object a line on stdout (NDJSON), schema in
 * docs/EVENTS.md and ./event-schema.ts. Every line has `v`, `type` and `time`.
 * The stream always ends with exactly one `done` (exit 0) or `error` (any
 * other exit code) line, written before the process exits.
 */
import type { MetadataEvent } from '../core/metadata/index.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import type { SessionStats, TorrentSession } from '../core/session/torrent-session.ts';
import { ExitCode, ShoalError, UsageError } from '../core/errors.ts';
import { EVENTS_VERSION, type EventType } from './event-schema.ts';
import type { SourceCounters } from './sources.ts';

export interface LineSink {
  write(chunk: string): boolean;
}

export type SessionLike = Pick<TorrentSession, 'on' | 'stats'>;

export class EventStream {
  readonly #out: LineSink;
  readonly #now: () => Date;
  #ended = false;

  constructor(out: LineSink = process.stdout, now: () => Date = () => new Date()) {
    this.#out = out;
    this.#now = now;
  }

  emit(type: EventType, fields: Record<string, unknown> = {}): void {
    if (this.#ended) return;
    this.#out.write(
      `${JSON.stringify({ v: EVENTS_VERSION, type, time: this.#now().toISOString(), ...fields })}\n`,
    );
    if (type === 'done' || type === 'error') this.#ended = true;
  }

  start(command: string, source: string, version: string): void {
    this.emit('start', { command, source, version });
  }

  metadata(meta: Metainfo, selected: readonly number[] | null, magnet?: string): void {
    this.emit('metadata', {
      ...(magnet ? { magnet } : {}),
      name: meta.name,
      infoHash: meta.infoHash ? Buffer.from(meta.infoHash).toString('hex') : null,
      infoHashV2: meta.infoHashV2 ? Buffer.from(meta.infoHashV2).toString('hex') : null,
      totalSize: meta.totalSize,
      pieceLength: meta.pieceLength,
      pieceCount: meta.pieceCount,
      files: meta.files.flatMap((file, index) =>
        file.padding
          ? []
          : [
              {
                index,
                path: file.path.join('/'),
                length: file.length,
                selected: !selected || selected.includes(index),
              },
            ],
      ),
    });
  }

  /** The last line for a failure: `code` is the process's exit code. */
  error(error: unknown): void {
    const code = error instanceof ShoalError ? error.exitCode : ExitCode.internal;
    const message = error instanceof Error ? error.message : String(error);
    this.emit('error', { code, message });
  }

  sources(counters: SourceCounters): void {
    counters.onEvent((event) => {
      const { type, ...fields } = event;
      this.emit(type, fields);
    });
  }

  /** Metadata-phase events of a magnet download (peer sources arrive through `sources`). */
  metadataListener(counters: SourceCounters): (event: MetadataEvent) => void {
    return (event) => {
      if (event.type === 'peers-found') counters.peersFound(event.source, event.count);
      else if (event.type === 'peer-connected')
        this.emit('peer-connected', { peer: event.peer, client: null });
      else if (event.type === 'peer-dropped')
        this.emit('peer-disconnected', { peer: event.peer, reason: event.reason });
      else if (event.type === 'mismatch')
        this.emit('warning', { message: 'metadata did not match the info-hash; trying others' });
      else if (event.type === 'warning') this.emit('warning', { message: event.message });
    };
  }

  session(session: SessionLike): void {
    session.on('phase', (phase) => this.emit('phase', { phase }));
    session.on('listening', (port) => this.emit('listening', { port }));
    session.on('check-done', (piecesFound, piecesWanted) =>
      this.emit('check', { piecesFound, piecesWanted }),
    );
    session.on('peer-connected', ({ key, client }) =>
      this.emit('peer-connected', { peer: key, client }),
    );
    session.on('peer-disconnected', ({ key, reason }) =>
      this.emit('peer-disconnected', { peer: key, reason }),
    );
    session.on('piece-verified', (index) => this.emit('piece-verified', { index }));
    session.on('piece-failed', (index, peers) => this.emit('piece-failed', { index, peers }));
    session.on('warning', (message) => this.emit('warning', { message }));
    // The engine ticks once a second: one progress line per tick.
    session.on('progress', (stats) => this.emit('progress', sessionProgress(stats)));
  }

  /** Progress of hashing work (create, inspect --verify): at most one line a second. */
  bytes(phase: string, totalBytes: number): (doneBytes: number, final?: boolean) => void {
    const started = performance.now();
    let last = -Infinity;
    return (done, final = false) => {
      const now = performance.now();
      if (!final && now - last < 1000) return;
      last = now;
      const rate = done / Math.max((now - started) / 1000, 0.001);
      this.emit('progress', {
        phase,
        bytesDone: done,
        bytesTotal: totalBytes,
        percent: percent(done, totalBytes),
        eta: rate > 0 ? round((totalBytes - done) / rate) : null,
        rate: Math.round(rate),
      });
    };
  }
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

function percent(done: number, total: number): number {
  return total > 0 ? round((100 * done) / total) : 100;
}

export function sessionProgress(stats: SessionStats): Record<string, unknown> {
  return {
    phase: stats.phase,
    bytesDone: stats.haveWanted,
    bytesTotal: stats.totalWanted,
    percent: percent(stats.haveWanted, stats.totalWanted),
    eta: stats.downloadRate > 0 && stats.left > 0 ? round(stats.left / stats.downloadRate) : null,
    downloadRate: Math.round(stats.downloadRate),
    uploadRate: Math.round(stats.uploadRate),
    downloaded: stats.downloaded,
    uploaded: stats.uploaded,
    peers: stats.peers,
    knownPeers: stats.knownPeers,
    piecesDone: stats.piecesVerified,
    piecesTotal: stats.piecesWanted,
  };
}

/** The event stream a command asked for (`--events`), or null; `--events` with `--json` is bad usage. */
export function eventStreamFor(flags: { events?: boolean; json?: boolean }): EventStream | null {
  if (flags.events && flags.json)
    throw new UsageError(
      '--events and --json cannot be used together: --json prints one summary document, --events a line per event',
    );
  return flags.events ? new EventStream() : null;
}
