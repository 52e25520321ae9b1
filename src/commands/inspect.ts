import { Args, Command, Flags } from '@oclif/core';
import { processOutput } from './command-output.ts';
import { discoveryFlags } from './discovery-flags.ts';
import { durationFlag, eventsFlag, outputFlags, threadsFlag } from './flags.ts';

export default class Inspect extends Command {
  static override summary =
    'Show what a .torrent or magnet link holds; optionally verify data on disk.';
  static override description = `Prints name, info-hashes, version, size, pieces, trackers, web seeds and the magnet link.
--files lists every file with the index that download --select takes. --verify DIR hashes the data under DIR
(the directory you downloaded into) and exits 6 when anything is missing or does not match.
Exit codes: 0 ok, 2 bad usage, 3 invalid torrent/magnet, 4 cannot fetch URL, 5 disk error, 6 verification failed.`;

  static override examples = [
    '<%= config.bin %> inspect ubuntu.iso.torrent --files',
    '<%= config.bin %> inspect ubuntu.iso.torrent --json | jq .infoHash',
    '<%= config.bin %> inspect ubuntu.iso.torrent --verify ~/Downloads',
    "<%= config.bin %> inspect 'magnet:?xt=urn:btih:...'",
    "<%= config.bin %> inspect 'magnet:?xt=urn:btih:...' --fetch --files --timeout 1m",
    'cat x.torrent | <%= config.bin %> inspect -',
  ];

  static override args = {
    source: Args.string({
      required: true,
      description: '.torrent file, - for stdin, http(s) URL, magnet link or info-hash',
    }),
  };

  static override flags = {
    files: Flags.boolean({ description: 'list every file with its index and size' }),
    verify: Flags.string({
      description: 'check the data in this directory against the torrent (exit 6 on mismatch)',
    }),
    threads: threadsFlag('hashing threads for --verify (default: one per core)'),
    fetch: Flags.boolean({
      description: 'with a magnet link: fetch the metadata from peers and show the full torrent',
    }),
    timeout: durationFlag({
      description: 'with --fetch: give up after this long (default 2m), exit 4',
    }),
    ...discoveryFlags,
    ...outputFlags,
    ...eventsFlag,
  };

  async run(): Promise<void> {
    // The work and everything it imports load only when this command runs,
    // so the other commands, --help and --version start fast.
    const { args, flags } = await this.parse(Inspect);
    const { inspect } = await import('./inspect.run.ts');
    await inspect(
      args,
      flags,
      processOutput((line) => this.log(line)),
    );
  }
}
