/**
 * CPU time and resident memory of a running process, sampled from /proc
 * (the benchmark harness's /usr/bin/time reports only wall time and peak
 * RSS, and only when the process ends).
 */
import { readFile } from 'node:fs/promises';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS = 100;

export interface Usage {
  cpuSeconds: number;
  rssMiB: number;
}

/** The process's user+system CPU seconds and current RSS, or null once it is gone. */
export async function usageOf(pid: number): Promise<Usage | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (stat === null) return null;
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const pages = Number(fields[21]);
  return {
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS,
    rssMiB: (pages * 4096) / 2 ** 20,
  };
}

/**
 * Samples `pid` every `everyMs` until it exits or `stop()` is called; keeps the
 * last CPU reading (the total so far) and the highest RSS seen.
 */
export function watchUsage(pid: number, everyMs = 250) {
  const last: Usage = { cpuSeconds: 0, rssMiB: 0 };
  let peakRssMiB = 0;
  const timer = setInterval(() => {
    void usageOf(pid).then((usage) => {
      if (usage === null) return;
      last.cpuSeconds = usage.cpuSeconds;
      last.rssMiB = usage.rssMiB;
      peakRssMiB = Math.max(peakRssMiB, usage.rssMiB);
    });
  }, everyMs);
  return {
    /** Latest sample (CPU so far, RSS now) and the peak RSS. */
    read: () => ({ ...last, peakRssMiB }),
    stop: () => clearInterval(timer),
  };
}
