import { Args, Command, Flags } from '@oclif/core';
import { connectionFlags } from './connection-flags.ts';
import { discoveryFlags } from './discovery-flags.ts';
import {
  durationFlag,
  eventsFlag,
  outputFlags,
  ratioFlag,
  seedUntilFlag,
  sizeFlag,
  threadsFlag,
} from './flags.ts';

export default class Seed extends Command {
  static override summary =
    'Serve data to other peers: from a .torrent and its data, or straight from a path.';
  static override description = `With a .torrent, the data in --data is verified first (exit 6 if incomplete), then served until stopped
(Ctrl-C, exit 130) or until --seed-time / --seed-ratio / --seed-until is reached (exit 0).
With a file or directory, a torrent is created in memory (v1, as shoal create), its magnet link is printed on stdout
(and the .torrent written to --out), and the data is served.
Exit codes: 0 goal reached, 2 bad usage, 3 bad torrent, 4 network, 5 disk, 6 data does not match, 130 stopped.`;

  static override examples = [
    '<%= config.bin %> seed ubuntu.iso.torrent -d ~/Downloads',
    '<%= config.bin %> seed ./release -o release.torrent -a udp://tracker.example.org:6969/announce',
    '<%= config.bin %> seed build.torrent -d ./out --seed-ratio 2 --port 6881',
  ];

  static override args = {
    source: Args.string({
      required: true,
      description: '.torrent file (or URL), or a file/directory to share',
    }),
  };

  static override flags = {
    data: Flags.string({
      char: 'd',
      description: 'directory holding the data (default: current directory)',
    }),
    out: Flags.string({ char: 'o', description: 'when seeding a path: write its .torrent here' }),
    force: Flags.boolean({
      char: 'f',
      description: 'overwrite the --out .torrent if it exists (default: refuse, exit 2)',
    }),
    announce: Flags.string({
      char: 'a',
      description: 'when seeding a path: tracker URL for its torrent (repeatable)',
      multiple: true,
    }),
    ...discoveryFlags,
    ...connectionFlags,
    port: Flags.integer({
      description: 'port to listen on (0 = any free port)',
      default: 6881,
      env: 'SHOAL_PORT',
      min: 0,
      max: 65535,
    }),
    'seed-time': durationFlag({ description: 'stop after seeding this long (e.g. 2h)' }),
    'seed-ratio': ratioFlag({
      description: 'stop once uploaded reaches this multiple of the torrent size',
    }),
    'seed-until': seedUntilFlag,
    'max-peers': Flags.integer({
      description: 'most peer connections at once',
      default: 200,
      env: 'SHOAL_MAX_PEERS',
      min: 1,
      max: 5000,
    }),
    'upload-limit': sizeFlag({
      description: 'upload rate cap per second (e.g. 10MiB)',
      env: 'SHOAL_UPLOAD_LIMIT',
    }),
    'on-seed-done': Flags.string({
      description:
        'run this program (a path or a name on PATH, no arguments) when seeding ends, success or failure; SHOAL_* variables describe the result',
      exclusive: ['on-seed-done-shell'],
    }),
    'on-seed-done-shell': Flags.string({
      description: 'like --on-seed-done, but a command line run through /bin/sh',
    }),
    'on-seed-done-required': Flags.boolean({
      description: "a failed hook fails shoal (its exit status becomes shoal's)",
    }),
    'on-seed-done-timeout': durationFlag({
      description: 'stop a hook still running after this long (default 5m)',
      default: 5 * 60_000,
    }),
    'progress-interval': durationFlag({
      description: 'time between plain progress lines when stderr is not a terminal (default 5s)',
    }),
    threads: threadsFlag(),
    ...outputFlags,
    ...eventsFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Seed);
    // The work and everything it imports load only when this command runs,
    // so the other commands, --help and --version start fast.
    const { seed } = await import('./seed.run.ts');
    await seed(args, flags, { stdout: (line) => this.log(line) });
  }
}
