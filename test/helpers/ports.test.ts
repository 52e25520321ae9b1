/**
 * freePort() (test/helpers/ports.ts): the ports fixtures give programs that
 * cannot report their own must not be ones anything else is handed meanwhile.
 */
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { spawnTracked, trackProcesses } from './cli.ts';
import { ephemeralRange, freePort, portBlock } from './ports.ts';

trackProcesses();

const portsModule = pathToFileURL(new URL('./ports.ts', import.meta.url).pathname).href;

/** Another test process: claims its block and prints it with 20 ports from it. */
function otherTestProcess() {
  const script = `
    import { freePort, portBlock } from ${JSON.stringify(portsModule)};
    const block = await portBlock();
    const ports = [];
    for (let i = 0; i < 20; i++) ports.push(await freePort({ udp: true }));
    console.log('PORTS ' + JSON.stringify({ block, ports }));
  `;
  return spawnTracked('ports child', process.execPath, ['--input-type=module', '-e', script], {
    timeoutMs: 30_000,
  });
}

describe('freePort', () => {
  it('hands out no port of the range the kernel gives to port-0 listeners and outgoing connections', async () => {
    const ephemeral = ephemeralRange();
    const ports = [];
    for (let i = 0; i < 10; i++) ports.push(await freePort(), await freePort({ udp: true }));
    const inside = ports.filter((port) => port >= ephemeral.first && port <= ephemeral.last);
    expect(inside, `ephemeral range ${ephemeral.first}-${ephemeral.last}`).toEqual([]);
  });

  it('never hands the same port twice in a row, even to calls made at once', async () => {
    const ports = await Promise.all(Array.from({ length: 30 }, () => freePort()));
    expect(new Set(ports).size).toBe(30);
  });

  it('hands another test process ports from a block of its own', async () => {
    // Ours first: the other process then claims while we hold it.
    const ours = await portBlock();
    const child = otherTestProcess();
    const [, json] = await child.waitFor(/PORTS (.+)/, 20_000, 'stdout');
    const theirs = JSON.parse(json!) as { block: { first: number; last: number }; ports: number[] };
    expect(theirs.block.last < ours.first || theirs.block.first > ours.last).toBe(true);
    const mine = [];
    for (let i = 0; i < 20; i++) mine.push(await freePort({ udp: true }));
    expect(mine.filter((port) => theirs.ports.includes(port))).toEqual([]);
    for (const port of theirs.ports) {
      expect(port).toBeGreaterThanOrEqual(theirs.block.first);
      expect(port).toBeLessThanOrEqual(theirs.block.last);
    }
    expect((await child.wait(10_000)).code, child.describe()).toBe(0);
  });
});
