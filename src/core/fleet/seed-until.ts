/**
 * Evaluates a parsed `--seed-until` expression against a snapshot of the
 * seeder and the fleet, and says which conditions made it true (for the
 * "seeding ended: completed>=50 (52 completed)" line). Pure: time comes in
 * through the snapshot.
 */
import type { Condition, ConditionName, SeedUntil } from './seed-until-parser.ts';

export {
  parseSeedUntil,
  type Condition,
  type SeedUntil,
  type SeedUntilValueParsers,
} from './seed-until-parser.ts';

export interface SeedUntilSnapshot {
  /** Completed downloads the trackers report (the highest of their scrapes); undefined before any answer. */
  completed: number | undefined;
  /** Time since the last byte was uploaded (or since seeding began, if none was). */
  idleMs: number;
  /** Time since seeding began. */
  elapsedMs: number;
  /** Uploaded bytes / torrent size. */
  ratio: number;
}

export interface SeedUntilVerdict {
  met: boolean;
  /** When met: the conditions that held and decided it, e.g. the one true side of an `|`. */
  because: Condition[];
}

export function evaluateSeedUntil(expr: SeedUntil, snapshot: SeedUntilSnapshot): SeedUntilVerdict {
  if (expr.kind === 'condition') {
    return holds(expr, snapshot) ? { met: true, because: [expr] } : { met: false, because: [] };
  }
  if (expr.kind === 'any') {
    for (const part of expr.parts) {
      const verdict = evaluateSeedUntil(part, snapshot);
      if (verdict.met) return verdict;
    }
    return { met: false, because: [] };
  }
  const because: Condition[] = [];
  for (const part of expr.parts) {
    const verdict = evaluateSeedUntil(part, snapshot);
    if (!verdict.met) return { met: false, because: [] };
    because.push(...verdict.because);
  }
  return { met: true, because };
}

function holds(condition: Condition, snapshot: SeedUntilSnapshot): boolean {
  const actual = measure(condition.name, snapshot);
  return actual !== undefined && actual >= condition.value;
}

function measure(name: ConditionName, snapshot: SeedUntilSnapshot): number | undefined {
  switch (name) {
    case 'completed':
      return snapshot.completed;
    case 'idle':
      return snapshot.idleMs;
    case 'time':
      return snapshot.elapsedMs;
    case 'ratio':
      return snapshot.ratio;
  }
}

/** Whether the expression needs tracker scrapes (it mentions `completed`). */
export function needsScrape(expr: SeedUntil): boolean {
  return expr.kind === 'condition'
    ? expr.name === 'completed'
    : expr.parts.some((part) => needsScrape(part));
}

/** "completed>=50 (52 completed) & time>=2h (2h 0m seeding)": the line that says why seeding ended. */
export function describeVerdict(verdict: SeedUntilVerdict, snapshot: SeedUntilSnapshot): string {
  return verdict.because
    .map((condition) => `${condition.text} (${actualText(condition.name, snapshot)})`)
    .join(' & ');
}

function actualText(name: ConditionName, snapshot: SeedUntilSnapshot): string {
  switch (name) {
    case 'completed':
      return `${snapshot.completed ?? 0} completed`;
    case 'idle':
      return `idle ${durationText(snapshot.idleMs)}`;
    case 'time':
      return `seeding ${durationText(snapshot.elapsedMs)}`;
    case 'ratio':
      return `ratio ${snapshot.ratio.toFixed(2)}`;
  }
}

function durationText(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}
