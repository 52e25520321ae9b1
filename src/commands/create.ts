import { Args, Command, Flags } from '@oclif/core';
import { processOutput } from './command-output.ts';
import { eventsFlag, outputFlags, threadsFlag } from './flags.ts';

export default class Create extends Command {
  static override summary = 'Create a .torrent (v1, v2 or hybrid) from a file or directory.';
  static override description = `Hashes the data on all cores and writes NAME.torrent (or --out). The default format is v1, which every
client reads; --hybrid adds BitTorrent v2 hashes for v2-aware clients while staying readable by v1 clients (it adds
BEP 47 padding files, which old clients such as Transmission 3 write to disk as small files); --v2 is v2 only.
Piece length "auto" picks the smallest power of two from 16KiB to 16MiB giving at most 2048 pieces.
Hidden files (names starting with ".") are left out unless --include-hidden. Symlinks to files are followed;
symlinks to directories are skipped. --no-date makes the output reproducible: the same input gives the same bytes.
Exit codes: 0 ok, 2 bad usage, 3 bad input (empty directory, all files empty), 5 disk error.`;

  static override examples = [
    '<%= config.bin %> create ./release -a udp://tracker.example.org:6969/announce',
    '<%= config.bin %> create build.tar.gz --hybrid --piece-length 1MiB -o build.torrent --json',
    '<%= config.bin %> create ./site --no-date --exclude "*.log" --magnet',
    '<%= config.bin %> create data.bin -o - > data.torrent',
  ];

  static override args = {
    path: Args.string({ required: true, description: 'file or directory to share' }),
  };

  static override flags = {
    out: Flags.string({
      char: 'o',
      description: 'where to write the .torrent ("-" for stdout); default NAME.torrent',
    }),
    announce: Flags.string({
      char: 'a',
      description: 'tracker URL; repeat for more tiers, comma-separate URLs that share a tier',
      multiple: true,
    }),
    'piece-length': Flags.string({
      description: 'piece size such as 256KiB or 4MiB, or auto',
      default: 'auto',
    }),
    v1: Flags.boolean({
      description: 'BitTorrent v1 only (the default)',
      exclusive: ['v2', 'hybrid'],
    }),
    v2: Flags.boolean({ description: 'BitTorrent v2 only (BEP 52)', exclusive: ['v1', 'hybrid'] }),
    hybrid: Flags.boolean({ description: 'v1 and v2 in one torrent', exclusive: ['v1', 'v2'] }),
    private: Flags.boolean({
      description: 'private torrent (BEP 27): peers only from its trackers',
    }),
    comment: Flags.string({ description: 'free-text comment' }),
    source: Flags.string({
      description: 'source tag stored in the info dictionary (changes the info-hash)',
    }),
    'web-seed': Flags.string({ description: 'web seed URL (BEP 19), repeatable', multiple: true }),
    'no-date': Flags.boolean({ description: 'leave out the creation date (reproducible output)' }),
    exclude: Flags.string({
      description: 'skip paths matching this glob (e.g. "*.log", "tmp/**"), repeatable',
      multiple: true,
    }),
    'include-hidden': Flags.boolean({
      description: 'include files and directories whose names start with "."',
    }),
    threads: threadsFlag(),
    magnet: Flags.boolean({
      description: 'print the magnet link on stdout (instead of the .torrent path)',
    }),
    force: Flags.boolean({ char: 'f', description: 'overwrite the output file if it exists' }),
    ...outputFlags,
    ...eventsFlag,
  };

  async run(): Promise<void> {
    // The work and everything it imports load only when this command runs,
    // so the other commands, --help and --version start fast.
    const { args, flags } = await this.parse(Create);
    const { create } = await import('./create.run.ts');
    await create(
      args,
      flags,
      processOutput((line) => this.log(line)),
    );
  }
}
