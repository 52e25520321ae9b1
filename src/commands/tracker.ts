import { Command, Flags } from '@oclif/core';
import { processOutput } from './command-output.ts';
import { TRACKER_DEFAULTS } from '../core/tracker-server/defaults.ts';
import { durationFlag, outputFlags } from './flags.ts';

export default class Tracker extends Command {
  static override summary =
    'Run a BitTorrent tracker: HTTP (/announce, /scrape) and UDP (BEP 15) on one port.';
  static override description = `Serves the info-hashes listed in --whitelist (hex, one a line, # comments), or any with --open.
HTTP and UDP listen on the same port number on each --bind address (default: every address, IPv4 and IPv6).
Peers get compact (BEP 23, BEP 7 peers6) or dictionary answers; peers that stop announcing are forgotten after
${TRACKER_DEFAULTS.expiryIntervals} intervals, and memory is capped (--max-peers, --max-peers-per-torrent, --max-torrents).
stdout: the announce URLs, or with --json one JSON object a line (listening, then stats every SHOAL_PROGRESS_INTERVAL
seconds, default 5). GET /stats answers the same counts as JSON.
Runs until Ctrl-C or SIGTERM (exit 130). Exit codes: 2 bad usage, 3 bad whitelist, 4 cannot listen.`;

  static override examples = [
    '<%= config.bin %> tracker --port 6969 --whitelist fleet.hashes',
    '<%= config.bin %> tracker --port 6969 --bind 10.0.0.1 --open --json',
    '<%= config.bin %> tracker --port 6969 --open --interval 1m --max-peers 100000',
  ];

  static override flags = {
    port: Flags.integer({
      char: 'p',
      description: 'port for both HTTP and UDP (0 = any free port)',
      default: 6969,
      min: 0,
      max: 65535,
    }),
    bind: Flags.string({
      description: 'address to listen on (repeatable; default: every address)',
      multiple: true,
    }),
    whitelist: Flags.string({
      char: 'w',
      description: 'file of info-hashes to serve (hex, one a line, # comments)',
    }),
    open: Flags.boolean({
      description: 'serve any info-hash (needed when there is no --whitelist)',
    }),
    interval: durationFlag({
      description: `announce interval asked of clients (default ${TRACKER_DEFAULTS.intervalSec / 60}m; min interval is half)`,
    }),
    'max-peers': Flags.integer({
      description: `most peers stored over all torrents (default ${TRACKER_DEFAULTS.maxPeers})`,
      min: 1,
    }),
    'max-peers-per-torrent': Flags.integer({
      description: `most peers stored per torrent (default ${TRACKER_DEFAULTS.maxPeersPerTorrent})`,
      min: 1,
    }),
    'max-torrents': Flags.integer({
      description: `most torrents tracked with --open (default ${TRACKER_DEFAULTS.maxTorrents})`,
      min: 1,
    }),
    ...outputFlags,
    json: Flags.boolean({
      description: 'one JSON object a line on stdout: listening, stats..., stopped',
    }),
  };

  async run(): Promise<void> {
    // The tracker and everything it imports load only when this command runs.
    const { flags } = await this.parse(Tracker);
    const { tracker } = await import('./tracker.run.ts');
    await tracker(
      flags,
      processOutput((line) => this.log(line)),
    );
  }
}
