/**
 * LSD (BEP 14) against python3-libtorrent, on a private segment of two
 * network namespaces joined by a veth pair (test/core/discovery/lsd-netns.ts):
 * shoal's LSD reports libtorrent's announce for the torrent as a peer, and
 * libtorrent learns shoal's address from shoal's announce (it puts shoal in
 * its peer list and dials shoal's TCP port, which nothing else told it).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { repoRoot, spawnTracked, trackProcesses } from '../helpers/cli.ts';
import { cleanupTempDirs, tempDir } from '../helpers/files.ts';
import { requirePeers, SYSTEM_PYTHON } from '../helpers/peers.ts';
import { createNetnsPair, type NetnsPair } from '../core/discovery/lsd-netns.ts';

trackProcesses();
cleanupTempDirs();
vi.setConfig({ testTimeout: 90_000, hookTimeout: 30_000 });
requirePeers('libtorrent');

const here = path.dirname(fileURLToPath(import.meta.url));
const shoalNode = path.join(here, '..', 'core', 'discovery', 'lsd-node.ts');
const ltPeer = path.join(here, 'lsd_libtorrent.py');
const node = path.join(repoRoot, 'node_modules', '.bin', 'node');
const infoHash = '5d5e'.padEnd(40, '7');
/** Inside its own namespace, libtorrent can have a fixed port. */
const LT_PORT = 6881;

let pair: NetnsPair;
beforeAll(() => {
  pair = createNetnsPair();
});
afterAll(() => pair?.remove());

describe('LSD interop with python3-libtorrent', () => {
  it("shoal sees libtorrent's announce, and libtorrent finds shoal through shoal's", async () => {
    const shoal = spawnTracked(
      'shoal lsd',
      'ip',
      [
        'netns',
        'exec',
        pair.names[0],
        node,
        shoalNode,
        'listen',
        '--hash',
        infoHash,
        '--bind',
        pair.addresses[0],
      ],
      { timeoutMs: 80_000 },
    );
    const ready = await shoal.waitFor(/READY (\d+)/, 20_000, 'stdout');
    const shoalPort = Number(ready[1]);

    const libtorrent = spawnTracked(
      'libtorrent lsd',
      'ip',
      [
        'netns',
        'exec',
        pair.names[1],
        SYSTEM_PYTHON,
        ltPeer,
        '--bind',
        pair.addresses[1],
        '--port',
        String(LT_PORT),
        '--info-hash',
        infoHash,
        '--save',
        tempDir('shoal-lsd-lt-'),
        '--timeout',
        '75',
      ],
      { timeoutMs: 80_000 },
    );
    await libtorrent.waitFor(/LISTENING \d+/, 20_000, 'stdout');
    const describeBoth = () => `${shoal.describe()}\n${libtorrent.describe()}`;

    // shoal's torrent starts: its discovery announces once, and reports libtorrent's announces.
    shoal.child.kill('SIGHUP');
    const ltAddress = `${pair.addresses[1]}:${LT_PORT}`;
    await shoal
      .waitFor(new RegExp(`PEER lsd ${ltAddress.replace(/\./g, '\\.')}\\b`), 30_000, 'stdout')
      .catch((error: Error) => {
        throw new Error(`${error.message}\n${describeBoth()}`);
      });

    // libtorrent knows shoal only from shoal's announce: the peer in its list, dialled by it.
    await libtorrent.waitFor(/LIST_PEERS [1-9]/, 30_000, 'stdout').catch((error: Error) => {
      throw new Error(`${error.message}\n${describeBoth()}`);
    });
    await shoal
      .waitFor(
        new RegExp(`CONNECTION (::ffff:)?${pair.addresses[1].replace(/\./g, '\\.')}\\b`),
        30_000,
        'stdout',
      )
      .catch((error: Error) => {
        throw new Error(`${error.message}\n${describeBoth()}`);
      });
    expect(shoal.stdout).toContain(`HEARD ${infoHash} ${ltAddress}`);
    expect(shoalPort).toBeGreaterThan(0);
  });
});
