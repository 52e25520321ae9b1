/**
 * The `--seed-until` expression language: conditions on the fleet and on this
 * seeder, combined with `|` (any) and `&` (all), grouped with parentheses.
 *
 *   expr      := all ('|' all)*
 *   all       := term ('&' term)*
 *   term      := '(' expr ')' | condition
 *   condition := name '>=' value
 *
 * Names: `completed` (a count, from the trackers' scrape), `idle` and `time`
 * (durations such as 90s, 10m, 2h), `ratio` (uploaded / torrent size). `&`
 * binds tighter than `|`, as in most languages. Pure: no I/O.
 *
 * Durations and ratios are read by the CLI's own parsers (`parseDuration`,
 * `parseRatio` in src/commands/flags.ts), passed in so `idle>=10m` means
 * what `--timeout 10m` means and the engine does not import the CLI.
 */
import { UsageError } from '../errors.ts';

/** Value parsers for durations (to milliseconds) and ratios; they throw UsageError on bad text. */
export interface SeedUntilValueParsers {
  duration(text: string, what: string): number;
  ratio(text: string, what: string): number;
}

export type ConditionName = 'completed' | 'idle' | 'time' | 'ratio';

/** One `name>=value`; `value` is a count, milliseconds (idle, time) or a ratio. */
export interface Condition {
  kind: 'condition';
  name: ConditionName;
  value: number;
  /** The condition as the user wrote it, normalised (`completed>=50`), for messages. */
  text: string;
}

export interface Combination {
  kind: 'any' | 'all';
  parts: SeedUntil[];
}

export type SeedUntil = Condition | Combination;

/** Longer expressions are a mistake, not a use case; the cap also bounds recursion. */
const MAX_LENGTH = 1000;
const MAX_DEPTH = 32;

type Token =
  | { type: 'word'; text: string; at: number }
  | { type: '>='; at: number }
  | { type: '|' | '&' | '(' | ')'; at: number }
  | { type: 'end'; at: number };

/** Parses an expression; any mistake is a one-line UsageError (exit 2). */
export function parseSeedUntil(text: string, parsers: SeedUntilValueParsers): SeedUntil {
  const fail = (why: string): never => {
    throw new UsageError(`invalid --seed-until "${text}": ${why}`);
  };
  if (text.length > MAX_LENGTH) fail(`longer than ${MAX_LENGTH} characters`);
  const tokens = tokenize(text, fail);
  let position = 0;
  const peek = () => tokens[position]!;
  const next = () => tokens[position++]!;

  const parseAny = (depth: number): SeedUntil => {
    const parts = [parseAll(depth)];
    while (peek().type === '|') {
      next();
      parts.push(parseAll(depth));
    }
    return parts.length === 1 ? parts[0]! : { kind: 'any', parts };
  };
  const parseAll = (depth: number): SeedUntil => {
    const parts = [parseTerm(depth)];
    while (peek().type === '&') {
      next();
      parts.push(parseTerm(depth));
    }
    return parts.length === 1 ? parts[0]! : { kind: 'all', parts };
  };
  const parseTerm = (depth: number): SeedUntil => {
    const token = next();
    if (token.type === '(') {
      if (depth >= MAX_DEPTH) fail(`parentheses nested deeper than ${MAX_DEPTH}`);
      const inner = parseAny(depth + 1);
      if (next().type !== ')') fail(`missing ")" for the "(" at character ${token.at + 1}`);
      return inner;
    }
    if (token.type !== 'word') {
      return fail(
        token.type === 'end'
          ? 'expected a condition such as completed>=50 at the end'
          : `expected a condition at character ${token.at + 1}, found "${token.type}"`,
      );
    }
    return parseCondition(token, next(), next(), parsers, fail);
  };

  const tree = parseAny(0);
  const rest = peek();
  if (rest.type !== 'end') {
    fail(
      rest.type === ')'
        ? `unmatched ")" at character ${rest.at + 1}`
        : `expected "|" or "&" at character ${rest.at + 1}`,
    );
  }
  return tree;
}

function parseCondition(
  name: Token,
  op: Token,
  value: Token,
  parsers: SeedUntilValueParsers,
  fail: (why: string) => never,
) {
  const word = (name as { text: string }).text.toLowerCase();
  if (!isConditionName(word)) {
    fail(`unknown condition "${word}": use completed, idle, time or ratio`);
  }
  if (op.type !== '>=') fail(`expected ">=" after "${word}"`);
  if (value.type !== 'word') fail(`expected a value after "${word}>="`);
  const raw = (value as { text: string }).text;
  const condition: Condition = {
    kind: 'condition',
    name: word as ConditionName,
    value: parseValue(word as ConditionName, raw, parsers, fail),
    text: `${word}>=${raw}`,
  };
  return condition;
}

function parseValue(
  name: ConditionName,
  raw: string,
  parsers: SeedUntilValueParsers,
  fail: (why: string) => never,
): number {
  if (name === 'completed') {
    if (!/^\d{1,9}$/.test(raw)) fail(`completed>= takes a whole number, not "${raw}"`);
    return Number(raw);
  }
  try {
    // The same units as --timeout and --seed-time, the same ratio rule as --seed-ratio.
    return name === 'ratio' ? parsers.ratio(raw, 'ratio') : parsers.duration(raw, name);
  } catch (error) {
    return fail((error as Error).message.replace(/^invalid /, ''));
  }
}

function isConditionName(word: string): word is ConditionName {
  return word === 'completed' || word === 'idle' || word === 'time' || word === 'ratio';
}

function tokenize(text: string, fail: (why: string) => never): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at]!;
    if (/\s/.test(char)) {
      at++;
    } else if (char === '|' || char === '&' || char === '(' || char === ')') {
      tokens.push({ type: char, at });
      at++;
    } else if (text.startsWith('>=', at)) {
      tokens.push({ type: '>=', at });
      at += 2;
    } else {
      const word = /^[a-z0-9.]+/i.exec(text.slice(at));
      if (!word) fail(`unexpected "${char}" at character ${at + 1}`);
      tokens.push({ type: 'word', text: word![0], at });
      at += word![0].length;
    }
  }
  if (tokens.length === 0) fail('empty expression');
  tokens.push({ type: 'end', at });
  return tokens;
}
