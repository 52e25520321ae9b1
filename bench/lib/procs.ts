/**
 * Every process a benchmark starts goes through here: it runs in its own
 * process group (detached) under `/usr/bin/time -f '%e %M'` for its peak RSS,
 * and is killed by that group's id when the harness ends, fails or is
 * interrupted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const TIME = '/usr/bin/time';
const live = new Set<number>();
/** /usr/bin/time's reports, one file per process; removed when the harness exits. */
const timeDir = mkdtempSync(path.join(tmpdir(), 'shoal-bench-time-'));

/** Environment for children: no proxies, so nothing leaves 127.0.0.1 through one. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/_proxy$/i.test(key)) env[key] = value;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

let refusing = false;

/** Kill every live process group: TERM, then KILL whatever is left after `graceMs`. */
export async function killAll(graceMs = 1000, final = false): Promise<void> {
  // At the end (or on Ctrl-C) nothing new may start while the rest is stopped.
  if (final) refusing = true;
  for (const pid of live) killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (live.size > 0 && Date.now() < deadline) await sleep(50);
  for (const pid of live) killGroup(pid, 'SIGKILL');
}

process.on('exit', () => {
  for (const pid of live) killGroup(pid, 'SIGKILL');
  rmSync(timeDir, { recursive: true, force: true });
});

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RunResult {
  /** Seconds from spawn to exit (or to `doneWhen`, when given). */
  wall: number;
  /** Peak resident set size in KiB (from /usr/bin/time), null if unknown. */
  rssKiB: number | null;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface StartOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Where stdout/stderr go; default: kept in memory (up to 1 MiB each). */
  logFile?: string;
  /** Keep a pipe to stdin open (see `send`). */
  stdin?: boolean;
}

let seq = 0;

/** A process started under /usr/bin/time in its own process group. */
export class Proc {
  readonly child: ChildProcess;
  readonly started: number;
  readonly exited: Promise<void>;
  readonly timeFile: string;
  stdout = '';
  stderr = '';
  code: number | null = null;
  signal: string | null = null;
  endedAt = 0;
  #listeners = new Set<() => void>();

  constructor(cmd: string, args: string[], options: StartOptions = {}) {
    if (refusing) throw new Error('the harness is stopping');
    this.timeFile = path.join(timeDir, String(++seq));
    this.started = performance.now();
    this.child = spawn(TIME, ['-f', '%e %M', '-o', this.timeFile, cmd, ...args], {
      cwd: options.cwd,
      env: childEnv(options.env),
      detached: true,
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`cannot start ${cmd}`);
    live.add(pid);
    const log = options.logFile ? createWriteStream(options.logFile) : null;
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      if (this.stdout.length < 1 << 20) this.stdout += chunk;
      log?.write(chunk);
      for (const listener of this.#listeners) listener();
    });
    this.child.stderr!.on('data', (chunk: string) => {
      if (this.stderr.length < 1 << 20) this.stderr += chunk;
      log?.write(chunk);
      for (const listener of this.#listeners) listener();
    });
    this.exited = new Promise((resolve) => {
      this.child.on('error', (error) => {
        this.stderr += String(error);
        this.endedAt = performance.now();
        live.delete(pid);
        resolve();
      });
      this.child.on('close', (code, signal) => {
        this.endedAt = performance.now();
        this.code = code;
        this.signal = signal;
        live.delete(pid);
        log?.end();
        resolve();
      });
    });
  }

  /** Write a line to the program's stdin (started with `stdin: true`). */
  send(line: string): void {
    if (!this.endedAt) this.child.stdin?.write(`${line}\n`);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resolves once stdout (or stderr, with `stream`) contains `text`. */
  waitForOutput(
    text: string,
    timeoutMs: number,
    stream: 'stdout' | 'stderr' = 'stdout',
  ): Promise<void> {
    const seen = () => (stream === 'stdout' ? this.stdout : this.stderr).includes(text);
    return new Promise((resolve, reject) => {
      if (seen()) return resolve();
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
        if (error) reject(error);
        else resolve();
      };
      const listener = () => {
        if (seen()) finish();
      };
      const timer = setTimeout(
        () => finish(new Error(`no "${text}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.#listeners.add(listener);
      void this.exited.then(() =>
        seen()
          ? finish()
          : finish(new Error(`exited before "${text}": ${this.stderr.slice(-500)}`)),
      );
    });
  }

  /** The measured program's pid (the child of /usr/bin/time). */
  async innerPid(): Promise<number | null> {
    const text = await readFile(`/proc/${this.pid}/task/${this.pid}/children`, 'utf8').catch(
      () => '',
    );
    const pid = Number.parseInt(text.trim().split(/\s+/)[0] ?? '', 10);
    return Number.isFinite(pid) ? pid : null;
  }

  /**
   * Stop the measured program with `signal` (so /usr/bin/time still reports),
   * and the whole group with SIGKILL if it has not exited after `graceMs`.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (this.endedAt) return;
    const inner = await this.innerPid();
    if (inner !== null) {
      try {
        process.kill(inner, signal);
      } catch {
        // gone already
      }
    } else {
      killGroup(this.pid, signal);
    }
    const timer = setTimeout(() => killGroup(this.pid, 'SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Peak RSS in KiB as /usr/bin/time reported it. */
  async peakRssKiB(): Promise<number | null> {
    const text = await readFile(this.timeFile, 'utf8').catch(() => '');
    await rm(this.timeFile, { force: true });
    const last = text.trim().split('\n').at(-1) ?? '';
    const match = /^([\d.]+) (\d+)$/.exec(last);
    return match ? Number(match[2]) : null;
  }
}

export interface MeasureOptions extends StartOptions {
  timeoutMs?: number;
  /**
   * For programs that do not exit by themselves: resolves when the work is
   * done; the wall time stops there and the program is then stopped.
   */
  doneWhen?: (proc: Proc) => Promise<void>;
  /** Called right after spawning (e.g. to poll for the first byte). */
  onStart?: (proc: Proc) => void;
}

/** Run one command to completion and measure it. */
export async function measure(
  cmd: string,
  args: string[],
  options: MeasureOptions = {},
): Promise<RunResult> {
  const proc = new Proc(cmd, args, options);
  options.onStart?.(proc);
  let timedOut = false;
  const timeoutMs = options.timeoutMs ?? 600_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  let end: number;
  if (options.doneWhen) {
    const done = options.doneWhen(proc).then(() => 'done' as const);
    const outcome = await Promise.race([done, proc.exited.then(() => 'exited' as const), timeout]);
    end = performance.now();
    if (outcome === 'timeout') timedOut = true;
    await proc.stop('SIGTERM');
    if (outcome === 'exited') end = proc.endedAt;
  } else {
    const outcome = await Promise.race([proc.exited.then(() => 'exited' as const), timeout]);
    if (outcome === 'timeout') {
      timedOut = true;
      await proc.stop('SIGTERM', 2000);
    }
    end = proc.endedAt || performance.now();
  }
  clearTimeout(timer);
  return {
    wall: (end - proc.started) / 1000,
    rssKiB: await proc.peakRssKiB(),
    code: options.doneWhen && !timedOut ? 0 : proc.code,
    signal: proc.signal,
    stdout: proc.stdout,
    stderr: proc.stderr,
    timedOut,
  };
}

/** Run a helper command (not measured) and return its stdout; throws on failure. */
export async function run(
  cmd: string,
  args: string[],
  options: StartOptions = {},
): Promise<string> {
  const proc = new Proc(cmd, args, options);
  await proc.exited;
  await rm(proc.timeFile, { force: true });
  if (proc.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${proc.code}: ${proc.stderr.slice(-800)}`);
  }
  return proc.stdout;
}
