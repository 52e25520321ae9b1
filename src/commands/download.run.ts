import type { Interfaces } from '@oclif/core';
import { resolve } from 'node:path';
import { UsageError, VerifyError } from '../core/errors.ts';
import type { Client } from '../core/client/client.ts';
import { DiscoveryHub } from '../core/discovery/hub.ts';
import { HashPool } from '../core/hashing/pool.ts';
import { closeHandedOff, type HandedOffPeer } from '../core/metadata/hand-off.ts';
import { toHex } from '../core/metainfo/index.ts';
import type { Metainfo } from '../core/metainfo/types.ts';
import type { PeerAddress } from '../core/net/peer-address.ts';
import { TorrentSession, type SessionSummary } from '../core/session/torrent-session.ts';
import {
  checkExpectations,
  parseSha256,
  resolveExpectations,
  sha256OfFile,
  type ExpectedDigest,
} from '../core/script/digests.ts';
import {
  exitStatusOf,
  roundSeconds,
  torrentRoot,
  type RunOutcome,
} from '../core/script/outcome.ts';
import { buildReceipt, writeReceipt } from '../core/script/receipt.ts';
import { selectFiles } from '../core/select/select-files.ts';
import { loadSource } from '../core/source/load-source.ts';
import { resolveMagnet } from '../core/source/resolve-magnet.ts';
import { refuseNonDirectory } from '../core/storage/out-dir.ts';
import { DEFAULT_ENCRYPTION, dialKeyPairs } from '../core/transport/mse/index.ts';
import { refuseExistingOutput, writeOutputFile } from '../core/storage/output-file.ts';
import { oversizedFiles } from '../core/verify/oversized-files.ts';
import { formatBytes, formatRate } from '../ui/format.ts';
import { SessionUi } from '../ui/session-ui.ts';
import { clientFromFlags } from './connection-client.ts';
import { checkWebSeedUrls } from './flag-values.ts';
import { isUpdatableMagnet } from '../core/updatable/updatable-magnet.ts';
import { parseSeedUntilFlag, watchSeedUntil } from './seed-until-flag.ts';
import type { SeedUntil } from '../core/fleet/seed-until.ts';
import { buildSources, discoveryChoices } from './discovery-choices.ts';
import { handleSignals } from './signals.ts';
import type { DownloadTui } from './download-tui.ts';
import packageJson from '../../package.json' with { type: 'json' };
import type Download from './download.ts';

type DownloadFlags = Interfaces.InferredFlags<typeof Download.flags>;

/** Where the result goes: the command passes oclif's log (stdout, flushed by the CLI). */
export interface RunOutput {
  stdout(line: string): void;
}

/** What the run learned, for the receipt, the CI outputs and the hook, success or failure. */
interface RunRecord {
  startedAt: Date;
  meta: Metainfo | null;
  selected: number[] | null;
  session: TorrentSession | null;
  summary: SessionSummary | null;
  receipt: string | null;
}

/**
 * What a magnet's metadata fetch leaves running for the download: its peer
 * sources (not announced to twice), its live connections and the peer id
 * they were made under. Released by the session, or here if none starts.
 */
interface CarriedOver {
  hub: DiscoveryHub | null;
  connections: HandedOffPeer[];
  peerId: Uint8Array;
  /** Every peer the fetch learned of, dialed by the download. */
  peers: PeerAddress[];
}

/** The torrent to download, known from a file or fetched from peers. */
interface LoadedTorrent {
  meta: Metainfo;
  magnetSelection: number[] | null;
  carried: CarriedOver | null;
}

/** What `shoal download` does (the flags and help live in download.ts). */
export async function download(
  args: { source: string },
  flags: DownloadFlags,
  output: RunOutput,
): Promise<void> {
  if (isUpdatableMagnet(args.source)) {
    // Each version is a download of its own; later ones replace the receipt and saved torrent.
    const downloadVersion = (magnet: string, again: boolean) =>
      downloadOnce({ source: magnet }, again ? { ...flags, force: true } : flags, output);
    const notify = (line: string) => {
      if (!flags.quiet) process.stderr.write(`${line}\n`);
    };
    // Loaded only here: it brings the DHT library, which a plain download loads later if at all.
    const { downloadUpdatable } = await import('./download-updatable.ts');
    await downloadUpdatable(args.source, flags, downloadVersion, notify);
    return;
  }
  if (flags.follow)
    throw new UsageError('--follow needs an updatable magnet link (magnet:?xs=urn:btpk:...)');
  await downloadOnce(args, flags, output);
}

/** One torrent, magnet or info-hash, downloaded (and seeded, if asked) to its end. */
async function downloadOnce(
  args: { source: string },
  flags: DownloadFlags,
  output: RunOutput,
): Promise<void> {
  // --tui: the full-screen view replaces the progress on stderr (download-tui.ts).
  const tui = flags.tui
    ? (await import('./download-tui.ts')).DownloadTui.open(args.source, flags, packageJson.version)
    : null;
  const uiFlags = tui ? { ...flags, quiet: true } : flags;
  const ui = new SessionUi('download', args.source, uiFlags, packageJson.version);
  const abort = new AbortController();
  tui?.onStop(() => abort.abort());
  const stopSignals = handleSignals(() => abort.abort(), ui.notice);
  const record: RunRecord = {
    startedAt: new Date(),
    meta: null,
    selected: null,
    session: null,
    summary: null,
    receipt: null,
  };
  let failure: unknown = null;
  // One client for the whole run: the metadata fetch and the download dial and listen alike.
  // Received pieces are verified on this thread while that takes under half of its
  // time (no worker: less memory and CPU, see HashPoolOptions), on the workers past that;
  // a check of data already on disk uses the workers.
  const pool = new HashPool({ threads: flags.threads, sharedOnCallingThread: true });
  const client = clientFromFlags(flags, pool);
  let carried: CarriedOver | null = null;
  let listening: Promise<void> = Promise.resolve();
  try {
    // Refused before the metadata fetch, which can take minutes, and before the view starts:
    // an output path that is a file gets its one-line error and nothing else.
    refuseNonDirectory(flags.out, { creates: true });
    if (flags['save-torrent'])
      await refuseExistingOutput(resolve(flags['save-torrent']), flags.force);
    if (flags.receipt) await refuseExistingOutput(resolve(flags.receipt), flags.force);
    checkDigestSyntax(flags);
    checkWebSeedUrls(flags['web-seed'] ?? []);
    const seedUntil = parseSeedUntilFlag(flags['seed-until']);
    // Bound while the source is read and parsed, not before: both are on the way to the
    // first byte. loadTorrent waits for it before a magnet's metadata fetch.
    listening = client.start();
    listening.catch(() => {}); // awaited below; a source that fails first must not leave it unhandled
    const loaded = await loadTorrent(args.source, flags, ui, { client, listening }, abort.signal)
      // A taken port is reported whatever else failed, as when it was bound first.
      .catch(async (error: unknown) => {
        await listening;
        throw error;
      });
    await listening;
    carried = loaded.carried;
    const { meta } = loaded;
    record.meta = meta;
    record.selected = selectFiles(meta.files, meta.multiFile, {
      select: flags.select,
      exclude: flags.exclude,
      magnetSelection: loaded.magnetSelection,
    });
    const expected = resolveExpectations(
      { expect: flags.expect, expectFile: flags['expect-file'] },
      meta,
      record.selected,
    );
    const handedOver = carried;
    carried = null; // from here the session releases it, whatever happens
    await runSession(
      record,
      { client, carried: handedOver, expected, seedUntil, tui },
      flags,
      ui,
      abort.signal,
      tui?.holdOutput(output) ?? output,
    );
  } catch (error) {
    failure = await ui.fail(error);
  } finally {
    stopSignals();
    if (carried) await release(carried);
    // A listen still under way when the source failed: closed only once it is bound.
    await listening.catch(() => {});
    await client.close();
    await pool.destroy();
  }
  // A v2 magnet's layers came from peers after the metainfo was saved, a hybrid's are built
  // from its finished data: it gets them now.
  if (flags['save-torrent'] && record.meta) {
    const { addPieceLayersToTorrentFile } = await import('../core/session/piece-layer-torrent.ts');
    await addPieceLayersToTorrentFile(
      resolve(flags['save-torrent']),
      record.meta,
      failure === null ? { outDir: resolve(flags.out), threads: flags.threads } : undefined,
    ).catch(async (error: unknown) => void (failure ??= await ui.fail(error)));
  }
  await tui?.close(failure === null);
  // Loaded at the end, when they run: the hook's child_process and the CI outputs are
  // not on the way to the first piece (docs/PERFORMANCE.md, "First byte (2026-12-07, morning)").
  const [{ afterRun }, { hookFromFlags }] = await Promise.all([
    import('../core/script/after-run.ts'),
    import('../core/script/hook.ts'),
  ]);
  const late = await afterRun(outcomeOf(record, failure, flags), {
    command: 'download',
    hook: hookFromFlags(
      'on-done',
      flags['on-done'],
      flags['on-done-shell'],
      flags['on-done-timeout'],
    ),
    hookRequired: flags['on-done-required'],
    format: { bytes: formatBytes, rate: formatRate },
    notify: (line) => process.stderr.write(`${line}\n`),
  });
  if (failure !== null) throw failure;
  if (late) throw late;
}

/** A digest typo is refused before a magnet's metadata fetch, not after it. */
function checkDigestSyntax(flags: DownloadFlags): void {
  if (flags.expect !== undefined) parseSha256(flags.expect, '--expect');
  for (const text of flags['expect-file'] ?? [])
    parseSha256(text.slice(text.lastIndexOf('=') + 1), '--expect-file');
}

/** The torrent's mirrors (unless --no-web-seeds) and those given with --web-seed, once each. */
function webSeedsFor(meta: Metainfo, flags: DownloadFlags): string[] {
  const listed = flags['web-seeds'] ? meta.webSeeds : [];
  return [...new Set([...listed, ...(flags['web-seed'] ?? [])])];
}

function outcomeOf(record: RunRecord, failure: unknown, flags: DownloadFlags): RunOutcome {
  const { meta, session, summary } = record;
  const stats = session?.stats();
  const out = resolve(flags.out);
  return {
    status: exitStatusOf(failure),
    name: meta?.name ?? '',
    infoHash: meta?.infoHash ? toHex(meta.infoHash) : '',
    infoHashV2: meta?.infoHashV2 ? toHex(meta.infoHashV2) : '',
    out,
    path: meta ? torrentRoot(meta, out) : '',
    bytes: summary?.downloaded ?? stats?.downloaded ?? 0,
    size: meta ? selectedSize(meta, record.selected) : 0,
    seconds: roundSeconds(summary?.seconds ?? (Date.now() - record.startedAt.getTime()) / 1000),
    peers: summary?.peers ?? stats?.peers ?? 0,
    receipt: record.receipt,
  };
}

function selectedSize(meta: Metainfo, selected: readonly number[] | null): number {
  return meta.files.reduce(
    (sum, file, i) =>
      file.padding || (selected && !selected.includes(i)) ? sum : sum + file.length,
    0,
  );
}

/** A .torrent (file, URL, stdin) as is, or a magnet link resolved through peers. */
async function loadTorrent(
  text: string,
  flags: DownloadFlags,
  ui: SessionUi,
  { client, listening }: { client: Client; listening: Promise<void> },
  signal: AbortSignal,
): Promise<LoadedTorrent> {
  const source = await loadSource(text);
  if (source.kind === 'torrent') return { meta: source.meta, magnetSelection: null, carried: null };
  await listening; // the metadata fetch announces our port
  const { magnet } = source;
  const isPrivate = false; // unknown before the metadata; a magnet never marks privacy
  const choices = discoveryChoices(flags, {
    trackers: magnet.trackers,
    private: isPrivate,
    peers: magnet.peers,
  });
  const hub = new DiscoveryHub(buildSources(choices, ui));
  let resolved;
  try {
    resolved = await resolveMagnet({
      magnet,
      discoveries: hub,
      handOff: true,
      port: client.port,
      transport: client.transport,
      version: packageJson.version,
      timeoutMs: flags.timeout ?? DEFAULT_METADATA_TIMEOUT_MS,
      maxPeers: flags['max-peers'],
      signal,
      onEvent: ui.metadata(magnet.name ?? toHex(magnet.infoHash ?? magnet.infoHashV2!)),
    });
  } catch (error) {
    await hub.stop();
    throw error;
  }
  const carried: CarriedOver = {
    hub,
    connections: resolved.connections,
    peerId: resolved.peerId,
    peers: resolved.peers,
  };
  try {
    // A private torrent must not be looked up in the DHT: its sources start over without it.
    if (resolved.meta.private && choices.dht) {
      await hub.stop();
      carried.hub = null;
    }
    if (flags['save-torrent'])
      await writeOutputFile(resolve(flags['save-torrent']), resolved.torrentBytes, flags.force);
  } catch (error) {
    await release(carried);
    throw error;
  }
  return { meta: resolved.meta, magnetSelection: magnet.selectOnly, carried };
}

/** Closes what a magnet fetch carried over when no download takes it on. */
async function release(carried: CarriedOver): Promise<void> {
  closeHandedOff(carried.connections, 'download not started');
  await carried.hub?.stop();
}

/** What the session runs with, besides the flags. */
interface SessionInputs {
  client: Client;
  carried: CarriedOver | null;
  expected: readonly ExpectedDigest[];
  seedUntil: SeedUntil | null;
  tui: DownloadTui | null;
}

async function runSession(
  record: RunRecord,
  { client, carried, expected, seedUntil, tui }: SessionInputs,
  flags: DownloadFlags,
  ui: SessionUi,
  signal: AbortSignal,
  output: RunOutput,
): Promise<void> {
  const meta = record.meta!;
  const { selected } = record;
  const choices = discoveryChoices(flags, meta);
  const session = new TorrentSession({
    meta,
    outDir: resolve(flags.out),
    hashPool: client.hashPool,
    client,
    selectedFiles: selected ? new Set(selected) : null,
    maxPeers: flags['max-peers'],
    downloadLimit: flags['download-limit'],
    uploadLimit: flags['upload-limit'],
    stallTimeoutMs: flags.timeout,
    seedTimeMs: flags['seed-time'],
    seedRatio: flags['seed-ratio'],
    // --seed-until ends seeding from outside the session (watchSeedUntil).
    seedForever: seedUntil !== null,
    webSeeds: webSeedsFor(meta, flags),
    discoveries: carried?.hub ?? buildSources(choices, ui),
    handedOff: carried?.connections,
    peerId: carried?.peerId,
    version: packageJson.version,
    signal,
  });
  if (carried) session.addPeers(carried.peers, 'magnet');
  record.session = session;
  const peers = new Map<string, string>();
  session.on('peer-connected', ({ key, client }) => peers.set(key, client));
  ui.attach(session, meta, { selected, outDir: resolve(flags.out), verify: flags.verify });
  tui?.attach(session, { selected, trackers: choices.trackers, sources: ui.sources });
  let endedBy: string | null = null;
  const stopWatch = seedUntil
    ? watchSeedUntil(session, seedUntil, meta, choices.trackers.flat(), (because) => {
        endedBy = because;
        ui.notice(`download ${meta.name}: seeding ended: ${because}`);
      })
    : () => {};
  // The first dials' MSE key pairs are made while the tracker is asked, not after it answers.
  if ((flags.encryption ?? DEFAULT_ENCRYPTION) !== 'off') dialKeyPairs.prepare(FIRST_DIALS);
  const summary = await session.run().finally(stopWatch);
  record.summary = summary;
  if (flags.verify) await verifyOnDisk(session, meta, ui);
  await ui.close();
  // Digests are read back from disk after verification (docs/RECEIPT.md says why).
  const digests = await digestFiles(session, digestedFiles(meta, selected, expected, flags));
  if (flags.receipt) {
    const receiptPath = resolve(flags.receipt);
    await writeReceipt(
      receiptPath,
      buildReceipt({
        meta,
        files: [...digests].map(([index, sha256]) => ({
          path: meta.files[index].path.join('/'),
          length: meta.files[index].length,
          sha256,
        })),
        peerBytes: summary.downloaded - session.webSeedBytes,
        webSeedBytes: session.webSeedBytes,
        peers,
        bytesByPeer: session.bytesBySource(),
        startedAt: record.startedAt,
        endedAt: new Date(),
        version: packageJson.version,
      }),
      flags.force,
    );
    record.receipt = receiptPath;
  }
  checkExpectations(expected, digests);
  const result = {
    name: meta.name,
    infoHash: toHex(session.infoHash),
    out: resolve(flags.out),
    files: meta.files
      .map((file, index) => ({ file, index }))
      .filter(({ file }) => !file.padding)
      .map(({ file, index }) => ({
        path: file.path.join('/'),
        length: file.length,
        selected: !selected || selected.includes(index),
      })),
    downloaded: summary.downloaded,
    uploaded: summary.uploaded,
    seconds: roundSeconds(summary.seconds),
    peers: summary.peers,
    status: summary.status,
    ...(endedBy ? { endedBy } : {}),
    ...(record.receipt ? { receipt: record.receipt } : {}),
  };
  const path = torrentRoot(meta, resolve(flags.out));
  // With --events stdout is the event stream: the result is its `done` line.
  if (flags.json) output.stdout(JSON.stringify(result));
  else if (!flags.events) output.stdout(path);
  ui.done({ ...result, path });
}

/** `--verify`: every wanted piece re-read and checked, and no file longer than the torrent says. */
async function verifyOnDisk(session: TorrentSession, meta: Metainfo, ui: SessionUi): Promise<void> {
  const { good, wanted } = await session.recheck();
  ui.verified(good, wanted);
  if (good < wanted)
    throw new VerifyError(`${wanted - good} of ${wanted} pieces on disk do not match the torrent`);
  const longer = oversizedFiles(session.storage, meta.files);
  if (longer.length > 0)
    throw new VerifyError(
      `longer on disk than the torrent says (extra bytes past its end): ${longer.join(', ')}`,
    );
}

/** The files whose SHA-256 is needed: every selected one for a receipt, else those --expect names. */
function digestedFiles(
  meta: Metainfo,
  selected: readonly number[] | null,
  expected: readonly ExpectedDigest[],
  flags: DownloadFlags,
): number[] {
  if (!flags.receipt) return [...new Set(expected.map(({ index }) => index))].sort((a, b) => a - b);
  return meta.files.flatMap((file, i) =>
    file.padding || file.symlinkPath || (selected && !selected.includes(i)) ? [] : [i],
  );
}

/** One file after another (the disk reads in order), each streamed through SHA-256. */
async function digestFiles(
  session: TorrentSession,
  indexes: readonly number[],
): Promise<Map<number, string>> {
  const digests = new Map<number, string>();
  for (const index of indexes)
    digests.set(index, await sha256OfFile(session.storage.filePath(index)));
  return digests;
}

/**
 * MSE key pairs made ahead for the first dials: three peers tried over TCP and
 * uTP at once take six. More are made when needed, as before.
 */
const FIRST_DIALS = 8;

/** How long a magnet download looks for metadata when --timeout is not given. */
const DEFAULT_METADATA_TIMEOUT_MS = 10 * 60_000;
