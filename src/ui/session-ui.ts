/**
 * Everything `download` and `seed` show, behind one object so the commands
 * stay thin: the stderr view (tty / plain / quiet), the `--events` NDJSON
 * stream on stdout, the peer-source counters both of them read, the magnet
 * metadata view, and the one-line summary after Ctrl-C.
 */
import { InterruptedError } from '../core/errors.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import type { MetadataEvent } from '../core/metadata/index.ts';
import type { PeerDiscovery } from '../core/discovery/discovery.ts';
import type { TorrentSession } from '../core/session/torrent-session.ts';
import { eventStreamFor, type EventStream } from './events.ts';
import { interruptedMessage } from './interrupted.ts';
import { createMetadataView, type MetadataView } from './metadata-view.ts';
import { decideOutputMode, type OutputMode } from './output-mode.ts';
import { createSessionView, type SessionView } from './session-view.ts';
import { SourceCounters } from './sources.ts';

export interface UiFlags {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  events?: boolean;
  /** `--progress-interval`: milliseconds between plain progress lines. */
  'progress-interval'?: number;
}

export class SessionUi {
  readonly mode: OutputMode;
  readonly events: EventStream | null;
  readonly sources = new SourceCounters();
  readonly #command: 'download' | 'seed';
  readonly #verbose: boolean;
  readonly #intervalMs: number | undefined;
  #view: SessionView | null = null;
  #metadataView: MetadataView | null = null;
  #outDir = '.';

  constructor(command: 'download' | 'seed', source: string, flags: UiFlags, version: string) {
    this.#command = command;
    this.#verbose = flags.verbose ?? false;
    this.#intervalMs = flags['progress-interval'];
    this.mode = decideOutputMode(flags);
    this.events = eventStreamFor(flags);
    this.events?.start(command, source, version);
    this.events?.sources(this.sources);
  }

  /** Signal-handler messages ("stopping…") that must not break a live frame. */
  readonly notice = (line: string): void => {
    if (this.#view) this.#view.notice(line);
    else if (this.mode !== 'quiet') process.stderr.write(`${line}\n`);
  };

  /**
   * Counts what `sources` find for the view and the events: trackers named,
   * DHT nodes known. Pass `trackerResponse` as buildDiscoveries' onResponse.
   */
  watchSources(sources: readonly PeerDiscovery[], trackers: number): void {
    this.sources.trackers = trackers;
    const dht = sources.find((d) => d.stats?.().dhtNodes !== undefined);
    if (dht) this.sources.dhtNodes = () => dht.stats?.().dhtNodes ?? null;
  }

  /** Called with each tracker answer (buildDiscoveries' onResponse). */
  get trackerResponse(): SourceCounters['trackerResponse'] {
    return this.sources.trackerResponse;
  }

  /** The `onEvent` for resolveMagnet. */
  metadata(name: string): (event: MetadataEvent) => void {
    const view = createMetadataView(this.mode, name);
    this.#metadataView = view;
    const toEvents = this.events?.metadataListener(this.sources);
    return (event) => {
      view(event);
      if (toEvents) toEvents(event);
      else if (event.type === 'peers-found') this.sources.peersFound(event.source, event.count);
    };
  }

  /** The torrent is known (from a file, or from peers): show the session from now on. */
  attach(
    session: TorrentSession,
    meta: Metainfo,
    options: {
      selected: readonly number[] | null;
      outDir: string;
      magnet?: string;
      verify?: boolean;
    },
  ): void {
    this.#metadataView?.done(true);
    this.#outDir = options.outDir;
    this.events?.metadata(meta, options.selected, options.magnet);
    this.events?.session(session);
    session.on('peers-found', this.sources.peersFound);
    this.#view = createSessionView(session, this.mode, {
      verb: this.#command,
      selected: options.selected,
      sources: this.sources,
      verbose: this.#verbose,
      origin: this.#metadataView ? 'magnet' : 'torrent',
      verify: options.verify,
      intervalMs: this.#intervalMs,
    });
  }

  /** The result of `download --verify`, shown as the view's last phase. */
  verified(good: number, wanted: number): void {
    this.#view?.verified(good, wanted);
  }

  /** Ends the live view (the session has finished). */
  async close(): Promise<void> {
    await this.#view?.close();
  }

  /** Success: the last event line repeats the --json summary. */
  done(summary: Record<string, unknown>): void {
    this.events?.emit('done', { command: this.#command, ...summary });
  }

  /**
   * Failure: closes the views, writes the `error` event and returns the error
   * to throw (an interruption gets the one-line summary of what was saved).
   */
  async fail(error: unknown): Promise<unknown> {
    this.#metadataView?.done(false);
    await this.#view?.close();
    let result = error;
    if (error instanceof InterruptedError && this.#view)
      result = new InterruptedError(interruptedMessage(this.#view.snapshot(), this.#outDir));
    this.events?.error(result);
    return result;
  }
}
