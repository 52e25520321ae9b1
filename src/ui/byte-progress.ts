/**
 * A progress display for work measured in bytes (hashing for create,
 * inspect --verify): a bar redrawn in place on a terminal (fits the width,
 * redraws on resize), a plain line every few seconds otherwise, nothing when
 * quiet. It only ever writes to stderr; `--events` progress goes through
 * `onBytes` to the event stream.
 */
import { formatBytes, formatDuration, formatRate } from './format.ts';
import { LiveRegion, type TerminalStream } from './live-region.ts';
import { progressIntervalMs, type OutputMode } from './output-mode.ts';
import { barLines } from './session-frame.ts';

export interface ByteProgress {
  update(doneBytes: number): void;
  stop(): void;
}

export interface ByteProgressOptions {
  stream?: TerminalStream;
  /** Also told every update (e.g. the --events writer); `final` on stop. */
  onBytes?: (doneBytes: number, final?: boolean) => void;
  /** Clock in ms (tests pass a fake one). */
  now?: () => number;
  intervalMs?: number;
}

/** `verify: 42.0%  420 MiB/1.00 GiB  210 MiB/s  ETA 3s` (plain) or the bar's text parts. */
export function byteParts(done: number, total: number, rate: number): string[] {
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  return [
    `${formatBytes(done)}/${formatBytes(total)}`,
    formatRate(rate),
    `ETA ${formatDuration(eta)}`,
  ];
}

export function createByteProgress(
  mode: OutputMode,
  label: string,
  totalBytes: number,
  options: ByteProgressOptions = {},
): ByteProgress {
  const now = options.now ?? (() => performance.now());
  const stream = options.stream ?? process.stderr;
  const started = now();
  const rateOf = (done: number) => done / Math.max((now() - started) / 1000, 0.001);
  const tell = options.onBytes ?? (() => {});
  let done = 0;

  if (mode === 'quiet')
    return {
      update(bytes) {
        done = bytes;
        tell(bytes);
      },
      stop() {
        tell(done, true);
      },
    };

  const finalLine = () =>
    `${label}: done ${formatBytes(done)} in ${formatDuration((now() - started) / 1000)} (${formatRate(rateOf(done))})`;

  if (mode === 'plain') {
    let last = started;
    const interval = options.intervalMs ?? progressIntervalMs();
    return {
      update(bytes) {
        done = bytes;
        tell(bytes);
        const at = now();
        if (at - last < interval) return;
        last = at;
        const pct = totalBytes > 0 ? ((100 * done) / totalBytes).toFixed(1) : '100.0';
        stream.write(`${label}: ${pct}% ${byteParts(done, totalBytes, rateOf(done)).join(' ')}\n`);
      },
      stop() {
        tell(done, true);
        stream.write(`${finalLine()}\n`);
      },
    };
  }

  const region = new LiveRegion(stream);
  let lastDraw = -Infinity;
  const draw = () => {
    const fraction = totalBytes > 0 ? done / totalBytes : 1;
    const lines = barLines(fraction, byteParts(done, totalBytes, rateOf(done)), region.columns - 1);
    region.update([`${label}`, ...lines]);
  };
  draw();
  return {
    update(bytes) {
      done = bytes;
      tell(bytes);
      const at = now();
      if (at - lastDraw < 100) return; // ~10 frames a second is plenty
      lastDraw = at;
      draw();
    },
    stop() {
      tell(done, true);
      region.done([finalLine()]);
    },
  };
}
