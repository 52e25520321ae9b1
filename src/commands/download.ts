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

export default class Download extends Command {
  static override summary = 'Download a torrent or magnet link, verify every piece, and exit.';
  static override description = `Exits 0 once every selected piece is on disk and verified (no seeding afterwards unless --seed-time, --seed-ratio or --seed-until is given).
Data already in the output directory is checked first, so rerunning an interrupted download resumes it.
A magnet link or bare info-hash is resolved first: peers from its trackers, x.pe addresses, --peer, the DHT and PEX
send the torrent's metadata (give up after --timeout, default 10m, with exit 4).
An updatable magnet link (xs=urn:btpk:, BEP 46) is looked up in the DHT for its latest version; --follow keeps
watching and downloads each newer version into the same folder.
Exit codes: 0 done, 2 bad usage, 3 bad torrent, 4 network (no peers, stalled past --timeout), 5 disk, 6 verification failed or a digest differs (--expect), 130 interrupted.`;

  static override examples = [
    '<%= config.bin %> download ubuntu.iso.torrent -o ~/Downloads',
    '<%= config.bin %> download https://example.org/file.torrent --timeout 10m --json',
    '<%= config.bin %> download data.torrent --select 0,2-4 --peer 10.0.0.2:6881',
    'curl -s https://example.org/x.torrent | <%= config.bin %> download - --seed-ratio 1.0',
    "<%= config.bin %> download 'magnet:?xt=urn:btih:...' --save-torrent x.torrent --timeout 5m",
    '<%= config.bin %> download 3f9aac158c7de8dfcab171ea58a17aabdf7fbc93 --no-dht --tracker udp://tracker.example.org:6969',
    "<%= config.bin %> download data.torrent --select '*.iso' --exclude '*-beta*' --receipt receipt.json",
    '<%= config.bin %> download app.torrent --expect sha256:9f86d08... --on-done ./install.sh',
    "<%= config.bin %> download 'magnet:?xs=urn:btpk:8543d3e6...&s=6e696768746c79' -o /opt/app --follow",
    "<%= config.bin %> download build.torrent --seed-until 'completed>=20 | time>=1h'",
  ];

  static override args = {
    source: Args.string({
      required: true,
      description:
        '.torrent file, - for stdin, http(s) URL of a .torrent, magnet link, or info-hash',
    }),
  };

  static override flags = {
    out: Flags.string({
      char: 'o',
      description: 'directory to download into',
      default: '.',
      env: 'SHOAL_OUT',
    }),
    select: Flags.string({
      description:
        "only these files: indexes as `shoal inspect --files` lists them, ranges and globs, comma-separated (e.g. 0,2-4 or '*.iso,docs/**')",
    }),
    exclude: Flags.string({
      description: "leave out the files this glob matches (repeatable; e.g. '*.txt')",
      multiple: true,
    }),
    'seed-time': durationFlag({
      description: 'keep seeding this long after completion (e.g. 30m)',
    }),
    'seed-ratio': ratioFlag({
      description: 'keep seeding until uploaded/downloaded reaches this ratio (e.g. 1.0)',
    }),
    'seed-until': seedUntilFlag,
    ...discoveryFlags,
    ...connectionFlags,
    'web-seed': Flags.string({
      description:
        'HTTP(S) mirror of the data (BEP 19: a file URL, or a folder URL for a multi-file torrent), used beside peers (repeatable)',
      multiple: true,
    }),
    'web-seeds': Flags.boolean({
      description:
        'use the web seeds the torrent lists (--no-web-seeds to ignore them; --web-seed mirrors are still used)',
      allowNo: true,
      default: true,
    }),
    follow: Flags.boolean({
      description:
        'with an updatable magnet link (xs=urn:btpk:, BEP 46): keep watching and download each new version into the same folder (until Ctrl-C, exit 0)',
    }),
    'follow-interval': durationFlag({
      description: 'with --follow: time between looks for a new version (default 5m)',
      default: 5 * 60_000,
    }),
    'save-torrent': Flags.string({
      description: 'with a magnet link: also write the fetched metainfo to this .torrent file',
    }),
    force: Flags.boolean({
      char: 'f',
      description:
        'overwrite the --save-torrent or --receipt file if it exists (default: refuse, exit 2)',
    }),
    receipt: Flags.string({
      description:
        'write a JSON receipt here: info-hashes, each file with its SHA-256, peers, times (docs/RECEIPT.md)',
    }),
    expect: Flags.string({
      description:
        'single-file torrent: its SHA-256 must be this (sha256:HEX), else exit 6 (the data stays)',
    }),
    'expect-file': Flags.string({
      description: 'PATH=sha256:HEX: that file must have this SHA-256, else exit 6 (repeatable)',
      multiple: true,
    }),
    'on-done': Flags.string({
      description:
        'run this program (a path or a name on PATH, no arguments) when the download ends, success or failure; SHOAL_* variables describe the result',
      exclusive: ['on-done-shell'],
    }),
    'on-done-shell': Flags.string({
      description: 'like --on-done, but a command line run through /bin/sh',
    }),
    'on-done-required': Flags.boolean({
      description: "a failed hook fails shoal (its exit status becomes shoal's)",
    }),
    'on-done-timeout': durationFlag({
      description: 'stop a hook still running after this long (default 5m)',
      default: 5 * 60_000,
    }),
    'progress-interval': durationFlag({
      description: 'time between plain progress lines when stderr is not a terminal (default 5s)',
    }),
    port: Flags.integer({
      description: 'port to listen on for peers (0 = any free port)',
      default: 0,
      env: 'SHOAL_PORT',
      min: 0,
      max: 65535,
    }),
    'max-peers': Flags.integer({
      description: 'most peer connections at once',
      default: 50,
      env: 'SHOAL_MAX_PEERS',
      min: 1,
      max: 2000,
    }),
    'download-limit': sizeFlag({
      description: 'download rate cap per second (e.g. 5MiB); default unlimited',
      env: 'SHOAL_DOWNLOAD_LIMIT',
    }),
    'upload-limit': sizeFlag({
      description: 'upload rate cap per second (e.g. 1MiB); default unlimited',
      env: 'SHOAL_UPLOAD_LIMIT',
    }),
    timeout: durationFlag({
      description: 'give up (exit 4) after this long without progress (e.g. 10m); default never',
    }),
    verify: Flags.boolean({
      description:
        'after downloading, re-read all data from disk and verify it (exit 6 on mismatch)',
    }),
    threads: threadsFlag(
      'hashing worker threads for checking existing data, and for received pieces once verifying them takes over half the time of the main thread (default: one per core)',
    ),
    tui: Flags.boolean({
      description:
        'show the full-screen view of shoal tui for this download (q stops it as Ctrl-C does; when complete, q quits)',
    }),
    ...outputFlags,
    ...eventsFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Download);
    // The work and everything it imports load only when this command runs,
    // so the other commands, --help and --version start fast.
    const { download } = await import('./download.run.ts');
    await download(args, flags, { stdout: (line) => this.log(line) });
  }
}
