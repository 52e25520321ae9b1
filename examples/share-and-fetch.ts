/**
 * A library example: one ShoalClient seeds a file, a second fetches it from a
 * magnet link that names the first as a peer (x.pe), then checks the copy.
 * Run: node_modules/.bin/node examples/share-and-fetch.ts FILE OUT_DIR
 * (an installed package imports from 'shoal' instead of '../src/index.ts').
 */
import path from 'node:path';
import { createTorrent, ShoalClient, verifyTorrent, ShoalError } from '../src/index.ts';

const [file, outDir] = process.argv.slice(2);
if (!file || !outDir) {
  console.error('usage: share-and-fetch.ts FILE OUT_DIR');
  process.exit(2);
}

try {
  const created = await createTorrent({ path: file, version: 'v1', pieceLength: 'auto' });
  const infoHash = Buffer.from(created.infoHash!).toString('hex');

  // The seeder: its download folder is where the file already is, so it checks it and seeds.
  const seeder = await ShoalClient.open({
    downloadDir: path.dirname(path.resolve(file)),
    dht: false,
  });
  await seeder.add({ metainfo: created.torrentBytes });

  const leecher = await ShoalClient.open({ downloadDir: outDir, dht: false });
  const magnet = `magnet:?xt=urn:btih:${infoHash}&x.pe=127.0.0.1:${seeder.port}`;
  const torrent = await leecher.add({ magnet });
  torrent.on('activity', (activity) => console.log(`activity: ${activity}`));
  const done = await leecher.waitForCompletion(torrent.id, { timeoutMs: 60_000 });
  console.log(`complete: ${done.name}, ${done.downloaded} bytes downloaded`);

  const check = await verifyTorrent(created.torrentBytes, outDir);
  console.log(`verified: ${check.ok ? 'ok' : 'MISMATCH'}`);
  await leecher.close();
  await seeder.close();
  process.exitCode = check.ok ? 0 : 6;
} catch (error) {
  // Expected failures are ShoalErrors with the exit code of their family.
  console.error(`error: ${(error as Error).message}`);
  process.exitCode = error instanceof ShoalError ? error.exitCode : 1;
}
