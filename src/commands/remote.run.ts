import type { Interfaces } from '@oclif/core';
import { readFile } from 'node:fs/promises';
import { diskErrorFrom, InputError, UsageError } from '../core/errors.ts';
import { RpcClient } from '../core/rpc/client.ts';
import type { CommandOutput } from './command-output.ts';
import { parseRatio, parseSize } from './flags.ts';
import type Remote from './remote.ts';
import type { REMOTE_VERBS } from './remote.ts';
import { INFO_FIELDS, infoLines, LIST_FIELDS, listTable, statsLines } from './remote-format.ts';

type RemoteFlags = Interfaces.InferredFlags<typeof Remote.flags>;
type Verb = (typeof REMOTE_VERBS)[number];

/** Largest .torrent sent (as the rest of shoal reads). */
const MAX_TORRENT_BYTES = 64 * 1024 * 1024;

/** What `shoal remote` does (the flags and help live in remote.ts). */
export async function remote(
  args: { verb: Verb; targets: string[] },
  flags: RemoteFlags,
  output: CommandOutput,
): Promise<void> {
  const client = new RpcClient(flags.rpc, { auth: flags['rpc-auth'] });
  const print = (value: unknown) => output.stdout(JSON.stringify(value));
  switch (args.verb) {
    case 'add':
      return add(client, args.targets, flags, output);
    case 'ls': {
      const { torrents } = await client.call('torrent-get', { fields: LIST_FIELDS });
      const list = torrents as Record<string, unknown>[];
      if (flags.json) return print(list);
      for (const line of listTable(list, terminalWidth())) output.stdout(line);
      return;
    }
    case 'info': {
      if (args.targets.length !== 1)
        throw new UsageError('remote info takes one torrent id or hash');
      const { torrents } = await client.call('torrent-get', {
        ids: torrentIds(args.targets),
        fields: INFO_FIELDS,
      });
      const [torrent] = torrents as Record<string, unknown>[];
      if (!torrent) throw new UsageError(`no torrent ${args.targets[0]} on ${client.url}`);
      if (flags.json) return print(torrent);
      for (const line of infoLines(torrent)) output.stdout(line);
      return;
    }
    case 'stats': {
      const stats = await client.call('session-stats');
      if (flags.json) return print(stats);
      for (const line of statsLines(stats)) output.stdout(line);
      return;
    }
    case 'set':
      await client.call('torrent-set', { ids: targetIds(args), ...torrentChanges(flags) });
      break;
    case 'rm':
      await client.call('torrent-remove', {
        ids: targetIds(args),
        'delete-local-data': flags['delete-data'],
      });
      break;
    default:
      await client.call(`torrent-${args.verb}`, { ids: targetIds(args) });
  }
  if (flags.json) print({ result: 'success' });
  else if (!flags.quiet) output.stderr(`shoal remote: ${args.verb}: done`);
}

async function add(
  client: RpcClient,
  sources: string[],
  flags: RemoteFlags,
  output: CommandOutput,
): Promise<void> {
  if (sources.length === 0)
    throw new UsageError('remote add needs a .torrent file, magnet link or URL');
  const common: Record<string, unknown> = { paused: flags.paused };
  if (flags['download-dir']) common['download-dir'] = flags['download-dir'];
  if (flags.labels) common.labels = labelList(flags.labels);
  for (const source of sources) {
    const what = /^(magnet:|https?:\/\/)/i.test(source)
      ? { filename: source }
      : { metainfo: (await readTorrent(source)).toString('base64') };
    const result = await client.call('torrent-add', { ...common, ...what });
    const added = (result['torrent-added'] ?? result['torrent-duplicate']) as Record<
      string,
      unknown
    >;
    const duplicate = 'torrent-duplicate' in result;
    if (flags.json) output.stdout(JSON.stringify({ ...added, duplicate }));
    else output.stdout(`${String(added.id)} ${String(added.hashString)} ${String(added.name)}`);
    if (duplicate && !flags.quiet) output.stderr(`shoal remote: ${source} was already there`);
  }
}

/** A local .torrent: sent as data, since the daemon may not see this machine's files. */
async function readTorrent(file: string): Promise<Buffer> {
  const bytes = await readFile(file).catch((error: unknown) => {
    throw diskErrorFrom(error, 'read', file);
  });
  if (bytes.length > MAX_TORRENT_BYTES)
    throw new InputError(`${file} is larger than 64 MiB: not a .torrent`);
  return bytes;
}

/** `all` or nothing → every torrent (ids left out); otherwise numbers and info-hashes. */
function targetIds(args: { verb: Verb; targets: string[] }): (number | string)[] | undefined {
  if (args.targets.length === 0) {
    throw new UsageError(`remote ${args.verb} needs torrent ids, info-hashes or "all"`);
  }
  if (args.targets.length === 1 && args.targets[0] === 'all') return undefined;
  return torrentIds(args.targets);
}

function torrentIds(targets: string[]): (number | string)[] {
  return targets
    .flatMap((target) => target.split(','))
    .map((id) => {
      if (/^\d{1,9}$/.test(id)) return Number(id);
      if (/^[0-9a-f]{40}$/i.test(id)) return id.toLowerCase();
      throw new UsageError(
        `"${id}" is not a torrent id (a number from ls) or a 40-character info-hash`,
      );
    });
}

function labelList(text: string): string[] {
  return text
    .split(',')
    .map((label) => label.trim())
    .filter(Boolean);
}

/** torrent-set arguments from the flags; Transmission's limits are in kB/s (1000 bytes). */
function torrentChanges(flags: RemoteFlags): Record<string, unknown> {
  const changes: Record<string, unknown> = {};
  const limit = (flag: 'download-limit' | 'upload-limit', key: 'download' | 'upload') => {
    const text = flags[flag];
    if (text === undefined) return;
    if (text === 'none') {
      changes[`${key}Limited`] = false;
      return;
    }
    changes[`${key}Limit`] = Math.max(1, Math.round(parseSize(text, `--${flag}`) / 1000));
    changes[`${key}Limited`] = true;
  };
  limit('download-limit', 'download');
  limit('upload-limit', 'upload');
  if (flags['seed-ratio'] === 'none') changes.seedRatioMode = 2;
  else if (flags['seed-ratio'] !== undefined) {
    changes.seedRatioLimit = parseRatio(flags['seed-ratio'], '--seed-ratio');
    changes.seedRatioMode = 1;
  }
  if (flags.labels !== undefined) changes.labels = labelList(flags.labels);
  if (Object.keys(changes).length === 0) {
    throw new UsageError(
      'remote set needs a change: --download-limit, --upload-limit, --seed-ratio or --labels',
    );
  }
  return changes;
}

/** Columns to fit `ls` in: the terminal's, else $COLUMNS, else 80. */
function terminalWidth(): number {
  return process.stdout.columns || Number(process.env.COLUMNS) || 80;
}
