/**
 * A progress display for work measured in bytes (hashing, verifying,
 * downloading): a cli-progress bar on a terminal, a plain line every few
 * seconds otherwise, nothing when quiet. It only ever writes to stderr.
 */
import cliProgress from 'cli-progress';
import { formatBytes, formatDuration, formatRate } from './format.ts';
import type { OutputMode } from './output-mode.ts';

export interface ByteProgress {
  update(doneBytes: number): void;
  stop(): void;
}

/** Seconds between plain progress lines; SHOAL_PROGRESS_INTERVAL overrides (tests use it). */
function plainInterval(): number {
  const fromEnv = Number(process.env.SHOAL_PROGRESS_INTERVAL);
  return Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv * 1000 : 5000;
}

export function createByteProgress(
  mode: OutputMode,
  label: string,
  totalBytes: number,
): ByteProgress {
  const started = performance.now();
  const rateOf = (done: number) => done / Math.max((performance.now() - started) / 1000, 0.001);

  if (mode === 'quiet') return { update() {}, stop() {} };

  if (mode === 'plain') {
    let last = started;
    let done = 0;
    const line = () => {
      const pct = totalBytes > 0 ? ((100 * done) / totalBytes).toFixed(1) : '100.0';
      const rate = rateOf(done);
      const eta = rate > 0 ? (totalBytes - done) / rate : Infinity;
      process.stderr.write(
        `${label}: ${pct}% ${formatBytes(done)}/${formatBytes(totalBytes)} ${formatRate(rate)} ETA ${formatDuration(eta)}\n`,
      );
    };
    return {
      update(doneBytes) {
        done = doneBytes;
        const now = performance.now();
        if (now - last >= plainInterval()) {
          last = now;
          line();
        }
      },
      stop() {
        process.stderr.write(
          `${label}: done ${formatBytes(done)} in ${formatDuration((performance.now() - started) / 1000)} (${formatRate(rateOf(done))})\n`,
        );
      },
    };
  }

  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {doneText}/{totalText} {rateText} ETA {etaText}`,
      barsize: 30,
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const payload = (done: number) => {
    const rate = rateOf(done);
    return {
      doneText: formatBytes(done),
      totalText: formatBytes(totalBytes),
      rateText: formatRate(rate),
      etaText: formatDuration(rate > 0 ? (totalBytes - done) / rate : Infinity),
    };
  };
  bar.start(Math.max(totalBytes, 1), 0, payload(0));
  return {
    update(doneBytes) {
      bar.update(doneBytes, payload(doneBytes));
    },
    stop() {
      bar.stop();
    },
  };
}
