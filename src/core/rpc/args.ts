/**
 * Readers for RPC request arguments: each returns the value with its
 * expected type, `undefined` when absent, or throws RpcRefusal naming the
 * argument. Callers are remote and untrusted: nothing here trusts a type.
 */
import type { Priority } from './backend.ts';
import { RpcRefusal } from './backend.ts';

export type Args = Record<string, unknown>;

/** Most entries in one list argument (file indices, labels). */
const MAX_LIST = 1_000_000;
const MAX_LABEL_LENGTH = 256;

export function optionalBoolean(args: Args, key: string): boolean | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  // Old clients send 0/1 for booleans.
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  throw new RpcRefusal(`argument "${key}" must be true or false`);
}

export function optionalNumber(
  args: Args,
  key: string,
  range: { min: number; max: number; integer?: boolean },
): number | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= range.min &&
    value <= range.max &&
    (range.integer === false || Number.isInteger(value));
  if (!ok)
    throw new RpcRefusal(`argument "${key}" must be a number from ${range.min} to ${range.max}`);
  return value as number;
}

export function optionalString(args: Args, key: string, maxLength = 65_536): string | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > maxLength) {
    throw new RpcRefusal(`argument "${key}" must be a string`);
  }
  return value;
}

export function optionalIndices(args: Args, key: string): number[] | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > MAX_LIST ||
    !value.every((i) => typeof i === 'number' && Number.isSafeInteger(i) && i >= 0)
  ) {
    throw new RpcRefusal(`argument "${key}" must be a list of file indices`);
  }
  return value as number[];
}

export function optionalLabels(args: Args, key: string): string[] | undefined {
  const value = args[key];
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length > 1000 ||
    !value.every(
      (label) =>
        typeof label === 'string' && label.length <= MAX_LABEL_LENGTH && !label.includes(','),
    )
  ) {
    throw new RpcRefusal(`argument "${key}" must be a list of labels (strings without commas)`);
  }
  return value as string[];
}

export function optionalPriority(args: Args, key: string): Priority | undefined {
  return optionalNumber(args, key, { min: -1, max: 1 }) as Priority | undefined;
}

export function optionalMode(args: Args, key: string): 0 | 1 | 2 | undefined {
  return optionalNumber(args, key, { min: 0, max: 2 }) as 0 | 1 | 2 | undefined;
}

/** `trackerList`: announce URLs one a line, a blank line between tiers. */
export function optionalTrackerList(args: Args, key: string): string[][] | undefined {
  const text = optionalString(args, key);
  if (text === undefined) return undefined;
  const tiers = text
    .split(/\n\s*\n/)
    .map((tier) =>
      tier
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean),
    )
    .filter((tier) => tier.length > 0);
  for (const url of tiers.flat()) {
    if (!/^(https?|udp):\/\/[^\s]+$/i.test(url)) throw new RpcRefusal(`invalid tracker URL ${url}`);
  }
  return tiers;
}

/** Priority and wanted lists shared by torrent-add and torrent-set. */
export function fileSelection(args: Args): {
  filesWanted?: number[];
  filesUnwanted?: number[];
  priorityHigh?: number[];
  priorityLow?: number[];
  priorityNormal?: number[];
} {
  return {
    filesWanted: optionalIndices(args, 'files-wanted'),
    filesUnwanted: optionalIndices(args, 'files-unwanted'),
    priorityHigh: optionalIndices(args, 'priority-high'),
    priorityLow: optionalIndices(args, 'priority-low'),
    priorityNormal: optionalIndices(args, 'priority-normal'),
  };
}
