import type { Interfaces } from '@oclif/core';
import { InputError, UsageError } from '../core/errors.ts';
import { toHex } from '../core/metainfo/index.ts';
import { loadSource } from '../core/source/load-source.ts';
import { readKeyFile } from '../core/updatable/keys.ts';
import { closeDht, openUpdatableDht, publishUpdatable } from '../core/updatable/mutable-item.ts';
import { formatUpdatableMagnet, MAX_SALT_BYTES } from '../core/updatable/updatable-magnet.ts';
import type { CommandOutput } from './command-output.ts';
import { parseDhtNode } from './flags.ts';
import type Publish from './publish.ts';

type PublishFlags = Interfaces.InferredFlags<typeof Publish.flags>;

/** What `shoal publish` does (the flags and help live in publish.ts). */
export async function publish(
  args: { torrent: string },
  flags: PublishFlags,
  output: CommandOutput,
): Promise<void> {
  const salt = Buffer.from(flags.salt ?? '', 'utf8');
  if (salt.length > MAX_SALT_BYTES) {
    throw new UsageError(`--salt is ${salt.length} bytes; BEP 44 allows at most ${MAX_SALT_BYTES}`);
  }
  const bootstrap = (flags['dht-bootstrap'] ?? []).map((text) => parseDhtNode(text));
  if (bootstrap.length === 0 && process.env.SHOAL_NO_DHT === '1') {
    throw new UsageError('publish needs the DHT: SHOAL_NO_DHT=1 is set, so give --dht-bootstrap');
  }
  // Check both inputs before joining the DHT: mistakes are reported at once.
  const key = await readKeyFile(flags.key);
  const infoHash = await infoHashOf(args.torrent);

  const dht = await openUpdatableDht({
    bootstrap: bootstrap.length > 0 ? bootstrap : undefined,
    port: flags['dht-port'] ?? 0,
  });
  let result: { seq: number; nodes: number };
  try {
    result = await publishUpdatable(dht, key, salt, infoHash);
  } finally {
    await closeDht(dht);
  }
  const magnet = formatUpdatableMagnet({ publicKey: key.publicKey, salt });
  if (flags.json) {
    output.stdout(
      JSON.stringify({
        magnet,
        publicKey: key.publicKey.toString('hex'),
        salt: salt.toString('hex'),
        infoHash: toHex(infoHash),
        seq: result.seq,
        nodes: result.nodes,
      }),
    );
    return;
  }
  output.stdout(magnet);
  if (!flags.quiet) {
    output.stderr(
      `shoal publish: ${toHex(infoHash)} is version ${result.seq}, stored on ${result.nodes} DHT nodes`,
    );
  }
}

/** The v1 info-hash BEP 46 points to, from a .torrent or a bare/magnet info-hash. */
async function infoHashOf(text: string): Promise<Uint8Array> {
  const source = await loadSource(text);
  const infoHash = source.kind === 'torrent' ? source.meta.infoHash : source.magnet.infoHash;
  if (!infoHash) {
    throw new InputError(
      `${text} is v2-only: BEP 46 points to a v1 info-hash (make the torrent with --hybrid)`,
    );
  }
  return infoHash;
}
