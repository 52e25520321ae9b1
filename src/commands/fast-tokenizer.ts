/**
 * The command-line tokenizer the fast paths share (download.fast.ts,
 * create.fast.ts). A fast path runs a command without loading oclif, so it
 * must only take lines whose meaning under oclif's parser is plain: each flag
 * once (the multiple ones aside), values as their own word or after `=`, one
 * positional argument that is not `-`. For any other line this returns null
 * and the line goes to oclif unchanged, so --help, typos, repeated flags,
 * values that look like flags and every error oclif's parser reports stay
 * oclif's. Each command gives its flags in a table; what it does after
 * (defaults, exclusive flags, environment) stays in its own fast file.
 */

/** How a flag takes its value, and (for oclif's checks) what values it allows. */
export type FastKind =
  | { type: 'boolean' }
  | { type: 'negatable' }
  /** `dash`: the value may be `-` (create's `-o -`, stdout); any other value starting with '-' goes to oclif. */
  | { type: 'string'; options?: readonly string[]; dash?: boolean }
  | { type: 'multiple' }
  | { type: 'integer'; min: number; max: number }
  | { type: 'custom'; parse: (text: string) => number };

/** One command's flags as the fast path takes them. */
export interface FastTable {
  /** By long name; a `negatable` one is also written `--no-NAME`. */
  flags: Readonly<Record<string, FastKind>>;
  /** `-o` -> `out`. */
  short: Readonly<Record<string, string>>;
}

export type FastFlagValues = Record<string, string | string[] | number | boolean>;

export interface FastLine {
  /** The one word that is not a flag or a flag's value. */
  positional: string;
  /** The flags on the line, as oclif gives them (no defaults). */
  values: FastFlagValues;
}

/** Own keys only, so that `--constructor` or `--toString` is no flag. */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/**
 * The positional argument and flags of `words` (the line after the command
 * name) as oclif would parse them with `table`'s flags, or null when the
 * line needs oclif.
 */
export function tokenizePlainLine(words: readonly string[], table: FastTable): FastLine | null {
  const values: FastFlagValues = {};
  let positional: string | null = null;
  // oclif gives every word that is not a flag to the last multiple flag that took a value,
  // even after other flags (`--exclude X --quiet T` makes T a glob): leave that to oclif.
  let afterMultiple = false;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!word.startsWith('-')) {
      if (positional !== null || afterMultiple || word === '') return null;
      positional = word;
      continue;
    }
    const equals = word.startsWith('--') ? word.indexOf('=') : -1;
    const written =
      equals > 0
        ? word.slice(2, equals)
        : word.startsWith('--')
          ? word.slice(2)
          : own(table.short, word);
    if (written === undefined) return null;
    // `--no-dht` is the negatable flag `dht` set to false; a flag named `no-date` is itself.
    const negated = written.startsWith('no-') && own(table.flags, written) === undefined;
    const name = negated ? written.slice(3) : written;
    const kind = own(table.flags, name);
    if (kind === undefined || (negated && kind.type !== 'negatable')) return null;
    if (kind.type === 'boolean' || kind.type === 'negatable') {
      if (equals > 0 || name in values) return null;
      values[name] = !negated;
      continue;
    }
    const value = equals > 0 ? word.slice(equals + 1) : words[++i];
    // A value that is empty or starts with '-' means what oclif decides.
    if (value === undefined || value === '') return null;
    if (value.startsWith('-') && !(value === '-' && kind.type === 'string' && kind.dash)) {
      return null;
    }
    if (kind.type === 'multiple') {
      const list = (values[name] ??= []) as string[];
      list.push(value);
      afterMultiple = true;
      continue;
    }
    if (name in values) return null;
    const parsed = parseValue(kind, value);
    if (parsed === null) return null;
    values[name] = parsed;
    afterMultiple = false;
  }
  if (positional === null) return null;
  return { positional, values };
}

/** A flag's value as oclif gives it, or null where oclif would refuse it (its error is the one to give). */
function parseValue(kind: FastKind, text: string): string | number | null {
  switch (kind.type) {
    case 'string':
      return !kind.options || kind.options.includes(text) ? text : null;
    case 'integer': {
      if (!/^\d{1,6}$/.test(text)) return null;
      const value = Number(text);
      return value >= kind.min && value <= kind.max ? value : null;
    }
    case 'custom':
      try {
        return kind.parse(text);
      } catch {
        return null;
      }
    default:
      return null;
  }
}
