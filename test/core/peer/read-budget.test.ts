/**
 * The read budget keeps one fast peer from holding the event loop: however
 * fast data arrives, each turn of the loop reads at most about the budget, so
 * disk and worker completions (and timers) are handled in between.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { tcpTransport } from '../../../src/core/transport/tcp.ts';
import { PeerConnection } from '../../../src/core/peer/peer-connection.ts';
import { ReadBudget } from '../../../src/core/peer/read-budget.ts';
import { BLOCK_SIZE } from '../../../src/core/swarm/piece-picker.ts';
import { FakePeer } from '../../hostile/fake-peer.ts';

describe('ReadBudget', () => {
  it('says when a turn has read enough, and resumes the paused at the next turn', async () => {
    const budget = new ReadBudget(100);
    expect(budget.spend(60)).toBe(false);
    expect(budget.spend(60)).toBe(true);
    const resumed: string[] = [];
    budget.resumeNextTurn(() => resumed.push('a'));
    budget.resumeNextTurn(() => resumed.push('b'));
    expect(resumed).toEqual([]);
    await nextTurn();
    expect(resumed).toEqual(['a', 'b']);
    // A new turn starts with the whole budget.
    expect(budget.spend(99)).toBe(false);
  });
});

describe('PeerConnection reading a peer that floods data', () => {
  let peer: FakePeer | null = null;
  let connection: PeerConnection | null = null;
  afterEach(async () => {
    connection?.close('test over');
    await peer?.stop();
  });

  it('reads at most about 1 MiB per turn of the event loop and loses nothing', async () => {
    const infoHash = randomBytes(20);
    const blocks = 2048; // 32 MiB
    const block = randomBytes(BLOCK_SIZE);
    peer = await FakePeer.start(infoHash, {
      onConnect(context) {
        for (let i = 0; i < blocks; i++) context.sendBlock(i, 0, block);
      },
    });
    const bytesPerTurn: number[] = [0];
    let flooding = true;
    const countTurns = (): void => {
      bytesPerTurn.push(0);
      if (flooding) setImmediate(countTurns);
    };
    setImmediate(countTurns);

    const dialed = await PeerConnection.dial(
      tcpTransport,
      { host: '127.0.0.1', port: peer!.port },
      {
        local: { infoHash, peerId: randomBytes(20), reserved: new Uint8Array(8) },
        acceptRemote: () => null,
      },
    );
    connection = dialed;
    const received = new Promise<number>((resolve, reject) => {
      let count = 0;
      dialed.on('message', (message) => {
        if (message.type !== 'piece') return;
        expect(Buffer.compare(message.block, block)).toBe(0);
        bytesPerTurn[bytesPerTurn.length - 1]! += message.block.length;
        if (++count === blocks) resolve(count);
      });
      dialed.on('close', (reason) => reject(new Error(reason)));
    });
    expect(await received).toBe(blocks);
    flooding = false;
    // A turn may end with the read that crossed the budget: at most one more 256 KiB read.
    expect(Math.max(...bytesPerTurn)).toBeLessThanOrEqual(1024 * 1024 + 256 * 1024);
  });
});
