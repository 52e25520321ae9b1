import { Args, Command, Flags } from '@oclif/core';
import { resolve, join } from 'node:path';
import { InputError, UsageError, VerifyError } from '../core/errors.ts';
import { HashPool } from '../core/hashing/pool.ts';
import { loadSource } from '../core/source/load-source.ts';
import { staticPeers } from '../core/session/discovery.ts';
import { TorrentSession } from '../core/session/torrent-session.ts';
import { mergeTrackerTiers, trackerDiscovery } from '../core/session/tracker-discovery.ts';
import { decideOutputMode } from '../ui/output-mode.ts';
import { createSessionView } from '../ui/session-view.ts';
import { durationFlag, outputFlags, parseHostPort, parseSelection, sizeFlag } from './flags.ts';
import { handleSignals } from './signals.ts';
import packageJson from '../../package.json' with { type: 'json' };

export default class Download extends Command {
  static override summary = 'Download a torrent, verify every piece, and exit.';
  static override description = `Exits 0 once every selected piece is on disk and verified (no seeding afterwards unless --seed-time or --seed-ratio is given).
Data already in the output directory is checked first, so rerunning an interrupted download resumes it.
Exit codes: 0 done, 2 bad usage, 3 bad torrent, 4 network (no peers, stalled past --timeout), 5 disk, 6 verification failed, 130 interrupted.`;

  static override examples = [
    '<%= config.bin %> download ubuntu.iso.torrent -o ~/Downloads',
    '<%= config.bin %> download https://example.org/file.torrent --timeout 10m --json',
    '<%= config.bin %> download data.torrent --select 0,2-4 --peer 10.0.0.2:6881',
    'curl -s https://example.org/x.torrent | <%= config.bin %> download - --seed-ratio 1.0',
  ];

  static override args = {
    source: Args.string({
      required: true,
      description: '.torrent file, - for stdin, or an http(s) URL of a .torrent',
    }),
  };

  static override flags = {
    out: Flags.string({ char: 'o', description: 'directory to download into', default: '.' }),
    select: Flags.string({
      description: 'only these files, by index as `shoal inspect --files` lists them (e.g. 0,2-4)',
    }),
    'seed-time': durationFlag({
      description: 'keep seeding this long after completion (e.g. 30m)',
    }),
    'seed-ratio': Flags.string({
      description: 'keep seeding until uploaded/downloaded reaches this ratio (e.g. 1.0)',
    }),
    tracker: Flags.string({ description: 'extra tracker URL (repeatable)', multiple: true }),
    peer: Flags.string({
      description: 'peer to connect to, HOST:PORT (repeatable)',
      multiple: true,
    }),
    port: Flags.integer({
      description: 'port to listen on for peers (0 = any free port)',
      default: 0,
      min: 0,
      max: 65535,
    }),
    'max-peers': Flags.integer({
      description: 'most peer connections at once',
      default: 50,
      min: 1,
      max: 2000,
    }),
    'download-limit': sizeFlag({
      description: 'download rate cap per second (e.g. 5MiB); default unlimited',
    }),
    'upload-limit': sizeFlag({
      description: 'upload rate cap per second (e.g. 1MiB); default unlimited',
    }),
    timeout: durationFlag({
      description: 'give up (exit 4) after this long without progress (e.g. 10m); default never',
    }),
    verify: Flags.boolean({
      description:
        'after downloading, re-read all data from disk and verify it (exit 6 on mismatch)',
    }),
    threads: Flags.integer({
      description: 'hashing threads (default: one per core)',
      min: 1,
      max: 256,
    }),
    ...outputFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Download);
    const mode = flags.json ? 'quiet' : decideOutputMode(flags);
    const seedRatio = flags['seed-ratio'] === undefined ? undefined : Number(flags['seed-ratio']);
    if (seedRatio !== undefined && !(seedRatio >= 0 && Number.isFinite(seedRatio))) {
      throw new UsageError(
        `invalid --seed-ratio "${flags['seed-ratio']}": use a number such as 1.0`,
      );
    }
    const peers = (flags.peer ?? []).map((text) => parseHostPort(text, '--peer'));
    const extraTrackers = flags.tracker ?? [];
    for (const url of extraTrackers) {
      if (!/^(https?|udp):\/\/[^/\s]+/i.test(url))
        throw new UsageError(`invalid --tracker "${url}": use an http, https or udp URL`);
    }

    const source = await loadSource(args.source);
    if (source.kind !== 'torrent') {
      throw new InputError(
        'magnet links and bare info-hashes are not supported yet: pass a .torrent file or URL',
      );
    }
    const meta = source.meta;
    const selected = flags.select ? parseSelection(flags.select) : null;
    if (selected) {
      for (const index of selected) {
        if (index >= meta.files.length)
          throw new UsageError(
            `--select: no file ${index}; the torrent has files 0-${meta.files.length - 1}`,
          );
        if (meta.files[index].padding)
          throw new UsageError(`--select: file ${index} is a padding file`);
      }
    }

    const pool = new HashPool({ threads: flags.threads });
    const abort = new AbortController();
    const session = new TorrentSession({
      meta,
      outDir: resolve(flags.out),
      hashPool: pool,
      selectedFiles: selected ? new Set(selected) : null,
      port: flags.port,
      maxPeers: flags['max-peers'],
      downloadLimit: flags['download-limit'],
      uploadLimit: flags['upload-limit'],
      stallTimeoutMs: flags.timeout,
      seedTimeMs: flags['seed-time'],
      seedRatio,
      discoveries: [
        staticPeers(peers),
        trackerDiscovery(mergeTrackerTiers(meta.trackers, extraTrackers)),
      ],
      version: packageJson.version,
      signal: abort.signal,
    });
    const view = createSessionView(session, mode, 'download');
    const stopSignals = handleSignals(() => abort.abort());
    try {
      const summary = await session.run();
      await view.close();
      if (flags.verify) {
        const { good, wanted } = await session.recheck();
        if (good < wanted)
          throw new VerifyError(
            `${wanted - good} of ${wanted} pieces on disk do not match the torrent`,
          );
      }
      const files = meta.files
        .map((file, index) => ({ file, index }))
        .filter(({ file }) => !file.padding)
        .map(({ file, index }) => ({
          path: file.path.join('/'),
          length: file.length,
          selected: !selected || selected.includes(index),
        }));
      const outPath = join(
        resolve(flags.out),
        meta.files.length > 0 && meta.multiFile ? meta.name : meta.files[0].path.join('/'),
      );
      if (flags.json) {
        this.log(
          JSON.stringify({
            name: meta.name,
            infoHash: Buffer.from(session.infoHash).toString('hex'),
            out: resolve(flags.out),
            files,
            downloaded: summary.downloaded,
            uploaded: summary.uploaded,
            seconds: Math.round(summary.seconds * 1000) / 1000,
            peers: summary.peers,
            status: summary.status,
          }),
        );
      } else {
        this.log(outPath);
      }
    } catch (error) {
      await view.close();
      throw error;
    } finally {
      stopSignals();
      await pool.destroy();
    }
  }
}
