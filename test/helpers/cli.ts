/**
 * Runs shoal as a user would: a separate process, with stdout, stderr and the
 * exit code observed from outside. `SHOAL_BIN` (an absolute path to a
 * standalone executable such as dist/shoal) replaces the source launcher, so
 * the same e2e suite checks the shipped single-executable build.
 *
 * Every process started here is tracked by PID; `trackProcesses()` registers
 * hooks that kill whatever a test left running. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const devNode = path.join(repoRoot, 'node_modules', '.bin', 'node');
const devEntry = path.join(repoRoot, 'bin', 'dev.js');

/** The command line that starts shoal: the executable under test, or Node 24 on the source. */
export function shoalCommand(): { file: string; prefix: string[] } {
  const bin = process.env.SHOAL_BIN;
  if (bin) return { file: path.resolve(bin), prefix: [] };
  return { file: devNode, prefix: [devEntry] };
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Kill the process (SIGKILL) after this long; the result then has `timedOut`. */
  timeoutMs?: number;
  stdin?: string | Buffer;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  timedOut: boolean;
}

const live = new Set<ChildProcess>();

/** Kills (SIGKILL) every process a helper started that is still running. */
export function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  live.clear();
}

/**
 * Registers hooks that kill what the tests of this file started: after each
 * test, and after the file. Files whose tests run concurrently pass
 * `{ concurrent: true }`: a test ending must not kill its neighbours'
 * processes, so only the afterAll hook kills (each run is still bounded by
 * its own timeout).
 */
export function trackProcesses(options: { concurrent?: boolean } = {}): void {
  if (!options.concurrent) afterEach(killAll);
  afterAll(killAll);
}

/** A started child process with its output collected and bounded waits on it. */
export class Proc {
  readonly child: ChildProcess;
  readonly name: string;
  stdout = '';
  stderr = '';
  #stdoutChunks: Buffer[] = [];
  readonly exited: Promise<RunResult>;
  #timedOut = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    name: string,
    child: ChildProcess,
    options: { timeoutMs?: number; stdin?: string | Buffer },
  ) {
    this.name = name;
    this.child = child;
    live.add(child);
    child.stdout?.on('data', (chunk: Buffer) => {
      this.#stdoutChunks.push(chunk);
      this.stdout += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    if (options.timeoutMs) {
      this.#timer = setTimeout(() => {
        this.#timedOut = true;
        this.kill('SIGKILL');
      }, options.timeoutMs);
    }
    if (child.stdin) {
      child.stdin.on('error', () => {});
      if (options.stdin !== undefined) child.stdin.end(options.stdin);
      else child.stdin.end();
    }
    this.exited = new Promise((resolve, reject) => {
      child.once('error', (error) => {
        live.delete(child);
        reject(error);
      });
      child.once('close', (code, signal) => {
        live.delete(child);
        if (this.#timer) clearTimeout(this.#timer);
        resolve({
          code,
          signal,
          stdout: this.stdout,
          stderr: this.stderr,
          stdoutBytes: Buffer.concat(this.#stdoutChunks),
          timedOut: this.#timedOut,
        });
      });
    });
    // A test that never awaits `exited` must not see an unhandled rejection.
    this.exited.catch(() => {});
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running && this.child.pid !== undefined) {
      try {
        process.kill(this.child.pid, signal);
      } catch {
        // already gone
      }
    }
  }

  /**
   * Resolves with the first match of `pattern` in stdout+stderr (checked as
   * output arrives); rejects when the process exits first or after `timeoutMs`.
   */
  waitFor(
    pattern: RegExp,
    timeoutMs = 20_000,
    stream: 'stdout' | 'stderr' | 'both' = 'both',
  ): Promise<RegExpMatchArray> {
    const text = () =>
      stream === 'stdout'
        ? this.stdout
        : stream === 'stderr'
          ? this.stderr
          : `${this.stdout}\n${this.stderr}`;
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = text().match(pattern);
        if (match) {
          finish();
          resolve(match);
        }
      };
      const onExit = () => {
        // Output may arrive in the same tick as the exit: look once more.
        const match = text().match(pattern);
        finish();
        if (match) resolve(match);
        else
          reject(new Error(`${this.name} exited before printing ${pattern}\n${this.describe()}`));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.name}: no ${pattern} within ${timeoutMs} ms\n${this.describe()}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.child.stdout?.off('data', check);
        this.child.stderr?.off('data', check);
        this.child.off('close', onExit);
      };
      this.child.stdout?.on('data', check);
      this.child.stderr?.on('data', check);
      this.child.once('close', onExit);
      check();
    });
  }

  /** Waits for the exit, at most `timeoutMs`, then kills it (the result says `timedOut`). */
  async wait(timeoutMs = 60_000): Promise<RunResult> {
    const timer = setTimeout(() => {
      this.#timedOut = true;
      this.kill('SIGKILL');
    }, timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The tail of what the process printed, for failure messages. */
  describe(): string {
    const tail = (s: string) => (s.length > 3000 ? `…${s.slice(-3000)}` : s);
    return `--- ${this.name} stdout ---\n${tail(this.stdout)}\n--- ${this.name} stderr ---\n${tail(this.stderr)}`;
  }
}

/** Starts any program, tracked like shoal. */
export function spawnTracked(
  name: string,
  file: string,
  args: string[],
  options: RunOptions = {},
): Proc {
  const child = spawn(file, args, {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return new Proc(name, child, options);
}

function shoalEnv(env: RunOptions['env']): Record<string, string | undefined> {
  // Plain progress lines, quickly, so tests can wait on them; no colours.
  // Tests stay on loopback: no public DHT bootstrap unless a test passes --dht-bootstrap.
  return {
    NO_COLOR: '1',
    SHOAL_PROGRESS_INTERVAL: '1',
    SHOAL_NO_DHT: '1',
    // Nor LSD: tests on one host would find each other's seeders by multicast.
    SHOAL_NO_LSD: '1',
    FORCE_COLOR: undefined,
    ...env,
  };
}

/** Starts shoal and returns at once (for seeders and anything to be interrupted). */
export function spawnShoal(args: string[], options: RunOptions = {}): Proc {
  const { file, prefix } = shoalCommand();
  return spawnTracked(`shoal ${args[0] ?? ''}`, file, [...prefix, ...args], {
    ...options,
    env: shoalEnv(options.env),
  });
}

/** Runs shoal to its end (bounded by timeoutMs, default 60 s). */
export async function runShoal(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const proc = spawnShoal(args, { ...options, timeoutMs: options.timeoutMs ?? 60_000 });
  return proc.exited;
}

/** A readable account of a finished run, for assertion messages. */
export function show(result: RunResult): string {
  return `exit ${result.code}${result.signal ? ` (${result.signal})` : ''}${result.timedOut ? ' TIMED OUT' : ''}\n--- stdout ---\n${result.stdout.slice(-3000)}\n--- stderr ---\n${result.stderr.slice(-3000)}`;
}
