import { Args, Command, Flags } from '@oclif/core';
import { processOutput } from './command-output.ts';
import { outputFlags } from './flags.ts';

export const REMOTE_VERBS = [
  'add',
  'ls',
  'info',
  'start',
  'stop',
  'rm',
  'verify',
  'set',
  'stats',
] as const;

export default class Remote extends Command {
  static override summary =
    'Control a shoal daemon or any Transmission-RPC server: add|ls|info|start|stop|rm|verify|set|stats.';
  static override description = `Speaks Transmission's RPC protocol, so it works against shoal daemon and transmission-daemon alike.
  add SOURCE...      add .torrent files (sent as data: the daemon may be on another machine), magnet links or URLs
  ls                 list torrents in a table that fits the terminal
  info ID            details of one torrent (ID: the number ls shows, or the info-hash)
  start|stop|verify ID...|all
  rm ID...|all       remove (data stays on disk unless --delete-data)
  set ID...|all      change limits, seed ratio, labels (--download-limit, --upload-limit, --seed-ratio, --labels)
  stats              session totals
--rpc defaults to $SHOAL_RPC or http://127.0.0.1:9091/transmission/rpc; credentials may be in the URL (http://user:pass@host:9091)
or given with --rpc-auth USER:PASS. --json prints the RPC objects.
Exit codes: 2 bad usage or a request the server refused, 3 unreadable .torrent, 4 the server cannot be reached.`;

  static override examples = [
    '<%= config.bin %> remote add ubuntu.iso.torrent --download-dir /srv/torrents',
    '<%= config.bin %> remote ls --rpc http://nas:9091 --rpc-auth me:secret',
    '<%= config.bin %> remote info 3 --json',
    '<%= config.bin %> remote stop all',
    '<%= config.bin %> remote set 3 --download-limit 2MiB --seed-ratio 1.5',
  ];

  static override strict = false;

  static override args = {
    verb: Args.string({ description: 'what to do', required: true, options: [...REMOTE_VERBS] }),
    targets: Args.string({ description: 'torrent ids/hashes (or sources for add)' }),
  };

  static override flags = {
    rpc: Flags.string({
      description: 'RPC URL or HOST:PORT',
      env: 'SHOAL_RPC',
      default: 'http://127.0.0.1:9091/transmission/rpc',
    }),
    'rpc-auth': Flags.string({ description: 'USER:PASS for the RPC server' }),
    'download-dir': Flags.string({ description: 'add: where the daemon saves the data' }),
    paused: Flags.boolean({ description: 'add: do not start the torrent' }),
    'delete-data': Flags.boolean({ description: 'rm: delete the downloaded data too' }),
    'download-limit': Flags.string({
      description: 'set: download cap per second (2MiB) or "none"',
    }),
    'upload-limit': Flags.string({ description: 'set: upload cap per second (512KiB) or "none"' }),
    'seed-ratio': Flags.string({ description: 'set: stop seeding at this ratio, or "none"' }),
    labels: Flags.string({ description: 'set/add: comma-separated labels' }),
    ...outputFlags,
    json: Flags.boolean({ description: 'print the RPC objects as JSON on stdout' }),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(Remote);
    // The action loads only when this command runs.
    const { remote } = await import('./remote.run.ts');
    await remote(
      { verb: args.verb as (typeof REMOTE_VERBS)[number], targets: (argv as string[]).slice(1) },
      flags,
      processOutput((line) => this.log(line)),
    );
  }
}
