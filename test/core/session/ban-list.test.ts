import { describe, expect, it } from 'vitest';
import { BanList } from '../../../src/core/session/ban-list.ts';

describe('BanList', () => {
  it('an incoming offender: its address is refused for incoming connections, other ports may still be dialled', () => {
    const bans = new BanList();
    bans.ban({
      address: { host: '10.0.0.5', port: 51234 },
      outgoing: false,
      peerIdHex: 'aa'.repeat(20),
      listenPort: 6881,
    });
    expect(bans.refusesIncoming('10.0.0.5')).toBe(true);
    expect(bans.refusesIncoming('::ffff:10.0.0.5')).toBe(true);
    expect(bans.refusesIncoming('10.0.0.6')).toBe(false);
    // Where it said it listens is never dialled; an honest peer at another port of that address is.
    expect(bans.refusesDial({ host: '10.0.0.5', port: 6881 })).toBe(true);
    expect(bans.refusesDial({ host: '10.0.0.5', port: 51413 })).toBe(false);
    expect(bans.refusesPeerId('aa'.repeat(20))).toBe(true);
  });

  it('an outgoing offender: its host:port and peer id, not its whole address', () => {
    const bans = new BanList();
    bans.ban({ address: { host: '::1', port: 7000 }, outgoing: true, peerIdHex: 'bb'.repeat(20) });
    expect(bans.refusesDial({ host: '::1', port: 7000 })).toBe(true);
    expect(bans.refusesDial({ host: '::1', port: 7001 })).toBe(false);
    expect(bans.refusesIncoming('::1')).toBe(false);
    expect(
      bans.refuses({
        address: { host: '::1', port: 40000 },
        outgoing: false,
        peerIdHex: 'bb'.repeat(20),
      }),
    ).toBe(true);
    expect(
      bans.refuses({
        address: { host: '::1', port: 40000 },
        outgoing: false,
        peerIdHex: 'cc'.repeat(20),
      }),
    ).toBe(false);
  });

  it('stays bounded under a flood of offenders', () => {
    const bans = new BanList();
    for (let i = 0; i < 20_000; i++)
      bans.ban({
        address: { host: '10.1.0.1', port: i + 1 },
        outgoing: true,
        peerIdHex: String(i),
      });
    expect(bans.refusesDial({ host: '10.1.0.1', port: 20_000 })).toBe(true);
    expect(bans.refusesDial({ host: '10.1.0.1', port: 1 })).toBe(false);
  });
});
