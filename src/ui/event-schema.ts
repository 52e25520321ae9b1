/**
 * The NDJSON event schema of `--events` (docs/EVENTS.md), as data: the writer
 * and the tests share it, so an event the code emits cannot drift from the
 * documented shape without a test failing. Version 1: fields may be added,
 * never renamed or removed, without raising `v`.
 */
export const EVENTS_VERSION = 1;

type FieldType = 'string' | 'number' | 'boolean' | 'array' | 'object';
/** A field's type; `?` suffix: may be absent; `|null`: may be null. */
type FieldSpec = `${FieldType}${'' | '|null'}${'' | '?'}`;

export const EVENT_SCHEMA = {
  start: { command: 'string', source: 'string', version: 'string' },
  metadata: {
    name: 'string',
    infoHash: 'string|null',
    infoHashV2: 'string|null',
    totalSize: 'number',
    pieceLength: 'number',
    pieceCount: 'number',
    files: 'array',
    magnet: 'string?',
  },
  phase: { phase: 'string' },
  listening: { port: 'number' },
  check: { piecesFound: 'number', piecesWanted: 'number' },
  'peer-connected': { peer: 'string', client: 'string|null' },
  'peer-disconnected': { peer: 'string', reason: 'string' },
  'piece-verified': { index: 'number' },
  'piece-failed': { index: 'number', peers: 'array' },
  progress: {
    phase: 'string',
    bytesDone: 'number',
    bytesTotal: 'number',
    percent: 'number',
    eta: 'number|null',
    rate: 'number?',
    downloadRate: 'number?',
    uploadRate: 'number?',
    downloaded: 'number?',
    uploaded: 'number?',
    peers: 'number?',
    knownPeers: 'number?',
    piecesDone: 'number?',
    piecesTotal: 'number?',
  },
  tracker: { url: 'string', peers: 'number' },
  dht: { peers: 'number', nodes: 'number|null' },
  pex: { peers: 'number' },
  warning: { message: 'string' },
  done: { command: 'string' },
  error: { code: 'number', message: 'string' },
} as const satisfies Record<string, Record<string, FieldSpec>>;

export type EventType = keyof typeof EVENT_SCHEMA;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Problems with one parsed event line (empty when it matches the schema). */
export function validateEvent(event: unknown): string[] {
  if (typeOf(event) !== 'object') return ['not a JSON object'];
  const record = event as Record<string, unknown>;
  const problems: string[] = [];
  if (record.v !== EVENTS_VERSION) problems.push(`v is ${String(record.v)}, expected 1`);
  if (typeof record.time !== 'string' || Number.isNaN(Date.parse(record.time)))
    problems.push('time is not an ISO date');
  const fields = EVENT_SCHEMA[record.type as EventType] as Record<string, FieldSpec> | undefined;
  if (!fields) return [...problems, `unknown type ${String(record.type)}`];
  for (const [name, spec] of Object.entries(fields)) {
    const optional = spec.endsWith('?');
    const [type, nullable] = spec.replace('?', '').split('|');
    const actual = typeOf(record[name]);
    if (actual === 'undefined' && optional) continue;
    if (actual === type || (nullable && actual === 'null')) continue;
    problems.push(`${String(record.type)}.${name} is ${actual}, expected ${spec}`);
  }
  return problems;
}
