/**
 * LSD (BEP 14) between two shoal LsdService instances in two network
 * namespaces joined by a veth pair (lsd-netns.ts): each finds the other's
 * announce for the torrent, ignores its own, announces no more than the gap
 * allows, survives hostile datagrams and drops a flood beyond its intake cap.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeLsdAnnounce } from '../../../src/core/discovery/lsd-codec.ts';
import { repoRoot, spawnTracked, trackProcesses, type Proc } from '../../helpers/cli.ts';
import { createNetnsPair, type NetnsPair } from './lsd-netns.ts';

trackProcesses();
vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lsd-node.ts');
const node = path.join(repoRoot, 'node_modules', '.bin', 'node');
const hash = 'c0ffee'.padEnd(40, '1');
const otherHash = 'beef'.padEnd(40, '2');

let pair: NetnsPair;
beforeAll(() => {
  pair = createNetnsPair();
});
afterAll(() => pair?.remove());

/** An LSD node in namespace `side`; resolves with its TCP port once ready. */
async function lsdNode(side: 0 | 1, extra: string[] = []): Promise<{ proc: Proc; port: number }> {
  const proc = spawnTracked(
    `lsd-node ${side}`,
    'ip',
    ['netns', 'exec', pair.names[side], node, script, 'listen', '--hash', hash, ...extra],
    { timeoutMs: 60_000 },
  );
  const ready = await proc.waitFor(/READY (\d+)/, 20_000, 'stdout');
  return { proc, port: Number(ready[1]) };
}

/** lsd-node.ts takes its commands as signals: `start` is SIGHUP, `announce` SIGUSR2. */
function command(proc: Proc, what: 'start' | 'announce'): void {
  proc.child.kill(what === 'start' ? 'SIGHUP' : 'SIGUSR2');
}

function lines(proc: Proc, prefix: string): string[] {
  return proc.stdout.split('\n').filter((line) => line.startsWith(prefix));
}

async function send(datagrams: Buffer[], count = 1): Promise<void> {
  const hex = datagrams.flatMap((datagram) => ['--hex', datagram.toString('hex')]);
  const sender = spawnTracked(
    'lsd-send',
    'ip',
    ['netns', 'exec', pair.names[1], node, script, 'send', '--count', String(count), ...hex],
    { timeoutMs: 30_000 },
  );
  const result = await sender.wait(30_000);
  expect(result.code, sender.describe()).toBe(0);
}

describe('LSD between two network namespaces', () => {
  it("each side finds the other's announce, never its own, and the gap holds back a second announce", async () => {
    // IPv4 only here (the next test covers IPv6): one announce per side to reason about.
    const a = await lsdNode(0, ['--no-ipv6', '--bind', pair.addresses[0]]);
    const b = await lsdNode(1, ['--no-ipv6', '--bind', pair.addresses[1]]);
    const bPeer = `PEER lsd ${pair.addresses[1]}:${b.port}`;

    // A starts first: B hears its announce (B's own torrent is not started yet, so B only
    // logs it). Then B starts and announces, and A's discovery reports B as a peer.
    command(a.proc, 'start');
    await b.proc.waitFor(/HEARD /, 20_000, 'stdout');
    command(b.proc, 'start');
    await a.proc.waitFor(new RegExp(bPeer.replace(/\./g, '\\.')), 20_000, 'stdout');
    expect(lines(a.proc, 'PEER')).toEqual([bPeer]);

    // A heard its own announce too (multicast loopback is on) but knew it by the cookie.
    expect(lines(a.proc, 'HEARD'), a.proc.describe()).toEqual([
      `HEARD ${hash} ${pair.addresses[1]}:${b.port}`,
    ]);
    expect(lines(b.proc, 'HEARD'), b.proc.describe()).toEqual([
      `HEARD ${hash} ${pair.addresses[0]}:${a.port}`,
    ]);
    command(a.proc, 'announce');
    await a.proc.waitFor(/ANNOUNCED (true|false)/, 10_000, 'stdout');
    expect(lines(a.proc, 'ANNOUNCED')).toEqual(['ANNOUNCED false']);
  });

  it('works over IPv6 alone (ff15::efc0:988f)', async () => {
    const a = await lsdNode(0, ['--no-ipv4', '--bind', '::']);
    const b = await lsdNode(1, ['--no-ipv4', '--bind', '::']);
    command(a.proc, 'start');
    await b.proc.waitFor(/HEARD /, 20_000, 'stdout');
    command(b.proc, 'start');
    const bPeer = `PEER lsd ${pair.addresses6[1]}:${b.port}`;
    await a.proc.waitFor(new RegExp(bPeer.replace(/\./g, '\\.')), 20_000, 'stdout');
    expect(lines(b.proc, 'HEARD')).toEqual([`HEARD ${hash} ${pair.addresses6[0]}:${a.port}`]);
    expect(a.proc.stderr, a.proc.describe()).not.toContain('warning');
  });

  it('ignores hostile datagrams and reports only well-formed announces', async () => {
    const a = await lsdNode(0);
    command(a.proc, 'start');
    const valid = (port: number, infoHashes = [hash]) =>
      encodeLsdAnnounce({ port, infoHashes, cookie: 'stranger' });
    const text = (body: string) => Buffer.from(body, 'latin1');
    const hostile = [
      valid(0),
      text(`BT-SEARCH * HTTP/1.1\r\nHost: x\r\nPort: 70000\r\nInfohash: ${hash}\r\n\r\n`),
      text(`BT-SEARCH * HTTP/1.1\r\nPort: 6000\r\nInfohash: ${hash.slice(1)}\r\n\r\n`),
      text(`BT-SEARCH * HTTP/1.1\r\nPort: 6000\r\nPort: 6001\r\nInfohash: ${hash}\r\n\r\n`),
      text(`M-SEARCH * HTTP/1.1\r\nPort: 6000\r\nInfohash: ${hash}\r\n\r\n`),
      text(
        `BT-SEARCH * HTTP/1.1\r\nPort: 6000\r\nInfohash: ${hash}\r\n${'X-Pad: y\r\n'.repeat(200)}`,
      ),
      Buffer.concat([valid(6002), Buffer.alloc(1500, 0x20)]),
      Buffer.alloc(0),
      Buffer.from([0xff, 0xfe, 0x00, 0x0d, 0x0a]),
    ];
    await send([...hostile, valid(7001, [otherHash]), valid(7000)]);
    await a.proc.waitFor(/PEER lsd .*:7000/, 20_000, 'stdout');
    expect(lines(a.proc, 'PEER'), a.proc.describe()).toEqual([
      `PEER lsd ${pair.addresses[1]}:7000`,
    ]);
    expect(lines(a.proc, 'HEARD').sort()).toEqual(
      [
        `HEARD ${hash} ${pair.addresses[1]}:7000`,
        `HEARD ${otherHash} ${pair.addresses[1]}:7001`,
      ].sort(),
    );
    expect(a.proc.running).toBe(true);
  });

  it('drops a flood beyond its intake cap unread', async () => {
    const a = await lsdNode(0);
    const flood = encodeLsdAnnounce({ port: 7002, infoHashes: [otherHash], cookie: 'flood' });
    await send([flood], 2000);
    await a.proc.waitFor(/DROPPED [1-9]/, 20_000, 'stdout');
    // The cap is 50 a second; 2000 datagrams arrive in far less than 40 seconds.
    expect(lines(a.proc, 'HEARD').length).toBeLessThan(2000);
    expect(a.proc.running).toBe(true);
  });
});
