import { Command } from '@oclif/core';
import { durationFlag } from './flags.ts';
import Remote from './remote.ts';

export default class Tui extends Command {
  static override summary =
    'Full-screen terminal UI for a shoal daemon or any Transmission-RPC server (q quits, the daemon keeps running).';
  static override description = `Shows the daemon's torrents (sortable, filterable) and a detail view with Files, Peers, Trackers and Pieces tabs; adds, pauses, resumes, verifies, removes and limits torrents. Press ? inside for every key.
--rpc defaults to $SHOAL_RPC or http://127.0.0.1:9091/transmission/rpc; credentials may be in the URL (http://user:pass@host:9091) or given with --rpc-auth USER:PASS.
Needs a terminal of at least 80x24. NO_COLOR turns colors off; a locale that is not UTF-8 draws with ASCII.
Exit codes: 0 after q or Ctrl-C, 2 bad usage (no terminal, TERM=dumb), 130 after SIGTERM or SIGHUP.`;

  static override examples = [
    '<%= config.bin %> tui',
    '<%= config.bin %> tui --rpc http://nas:9091 --rpc-auth me:secret',
    '<%= config.bin %> tui --interval 5s',
  ];

  static override flags = {
    // The same --rpc and --rpc-auth as shoal remote.
    rpc: Remote.flags.rpc,
    'rpc-auth': Remote.flags['rpc-auth'],
    interval: durationFlag({
      description: 'how often to ask the daemon for news (at least 250ms)',
      default: 2000,
      defaultHelp: async () => '2s',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Tui);
    // The action loads only when this command runs.
    const { tui } = await import('./tui.run.ts');
    await tui(flags);
  }
}
