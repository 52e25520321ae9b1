/**
 * Hostile MSE peers against shoal's receiver and initiator. Each lie must end
 * the handshake with its own MseError code and the connection destroyed. The
 * handshake's time bound is set far beyond the test (60 s) except where the
 * stall itself is tested, so an error other than `timeout` proves shoal
 * stopped because of what it read, not because it gave up waiting.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SkeyIndex,
  secureIncoming,
  secureOutgoing,
  type EncryptionPolicy,
} from '../../../../src/core/transport/mse/index.ts';
import { CryptoMethod } from '../../../../src/core/transport/mse/policy.ts';
import { MAX_IA } from '../../../../src/core/transport/mse/padding.ts';
import {
  fakeInitiator,
  fakeReceiver,
  type FakeInitiatorKnobs,
  type FakeReceiverKnobs,
} from './fake-peers.ts';
import { tappedPair, mseErrorOf } from './wire-tap.ts';

const infoHash = randomBytes(20);
const P_MINUS_1 = Buffer.from(
  'FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74' +
    '020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437' +
    '4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090562',
  'hex',
);
const NO_TIMEOUT = 60_000;

/** shoal accepts; a fake initiator with `knobs` dials. Returns shoal's result. */
async function accept(
  knobs: Omit<FakeInitiatorKnobs, 'skey'> & { skey?: Uint8Array },
  options: { policy?: EncryptionPolicy; timeoutMs?: number } = {},
) {
  const pair = tappedPair();
  const skeys = new SkeyIndex();
  skeys.add(infoHash);
  const accepting = secureIncoming(pair.acceptor, {
    policy: options.policy ?? 'prefer',
    lookup: skeys.lookup,
    timeoutMs: options.timeoutMs ?? NO_TIMEOUT,
  });
  fakeInitiator(pair.dialer, { skey: infoHash, ...knobs }).catch(() => {});
  return { accepting, pair };
}

/** shoal dials; a fake receiver with `knobs` answers. */
async function dial(
  knobs: Omit<FakeReceiverKnobs, 'skey'>,
  options: { policy?: EncryptionPolicy; timeoutMs?: number } = {},
) {
  const pair = tappedPair();
  const dialing = secureOutgoing(pair.dialer, {
    policy: options.policy ?? 'prefer',
    infoHash,
    initialPayload: Buffer.from('initial payload'),
    timeoutMs: options.timeoutMs ?? NO_TIMEOUT,
  });
  const answered = fakeReceiver(pair.acceptor, { skey: infoHash, ...knobs });
  answered.catch(() => {});
  return { dialing, answered, pair };
}

describe('shoal receiving from a hostile initiator', () => {
  it('the fake initiator, told no lie, completes the handshake (IA included)', async () => {
    const { accepting } = await accept({ ia: Buffer.from('hello'), padA: 512, padCLength: 512 });
    const result = await accepting;
    expect(result.mode).toBe('rc4');
    expect(result.received.toString()).toBe('hello');
  });

  it.each([
    ['a public key of 0', { publicKey: Buffer.alloc(96) }, 'bad-public-key'],
    ['a public key of P-1', { publicKey: P_MINUS_1 }, 'bad-public-key'],
    ['no sync hash, 2000 bytes of junk instead', { junkInsteadOfSync: 2000 }, 'no-sync'],
    ['no sync hash, 4 MiB of junk instead', { junkInsteadOfSync: 4 << 20 }, 'no-sync'],
    ['the sync hash after 513 bytes of PadA', { padA: 513 }, 'no-sync'],
    ['a stream key of a torrent we do not run', { skey: randomBytes(20) }, 'unknown-skey'],
    ['a wrong verification constant', { vc: Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]) }, 'bad-vc'],
    ['crypto_provide 0', { provide: 0 }, 'no-common-crypto'],
    ['crypto_provide naming only an unknown method', { provide: 0x08 }, 'no-common-crypto'],
    ['len(PadC) 513', { padCLength: 513 }, 'bad-length'],
    ['len(PadC) 65535', { padCLength: 0xffff }, 'bad-length'],
    [`len(IA) ${MAX_IA + 1}`, { iaLength: MAX_IA + 1 }, 'bad-length'],
    ['a close right after its public key', { closeAfterYa: true }, 'closed'],
  ] as const)('refuses %s', async (_name, knobs, code) => {
    const { accepting, pair } = await accept(knobs);
    expect((await mseErrorOf(accepting)).code).toBe(code);
    expect(pair.acceptor.destroyed).toBe(true);
    // Refused before answering step 3: nothing beyond our public key and PadB was sent.
    expect(pair.sentByAcceptor().length).toBeLessThanOrEqual(96 + 512);
  });

  it('accepts the sync hash after exactly 512 bytes of PadA (the bound itself)', async () => {
    const { accepting } = await accept({ padA: 512 });
    expect((await accepting).mode).toBe('rc4');
  });

  it('with policy require, refuses an initiator offering only plaintext', async () => {
    const { accepting } = await accept({ provide: CryptoMethod.plaintext }, { policy: 'require' });
    expect((await mseErrorOf(accepting)).code).toBe('no-common-crypto');
  });

  it('with policy prefer, selects plaintext for an initiator offering only plaintext', async () => {
    const { accepting } = await accept({ provide: CryptoMethod.plaintext });
    expect((await accepting).mode).toBe('plaintext');
  });

  it('gives up on an initiator that stalls after its public key', async () => {
    const { accepting, pair } = await accept({ stallAfterYa: true }, { timeoutMs: 300 });
    expect((await mseErrorOf(accepting)).code).toBe('timeout');
    expect(pair.acceptor.destroyed).toBe(true);
  });

  it('gives up on a peer that sends half a public key and stalls', async () => {
    const pair = tappedPair();
    const accepting = secureIncoming(pair.acceptor, {
      policy: 'require',
      lookup: () => undefined,
      timeoutMs: 300,
    });
    pair.dialer.write(randomBytes(40));
    expect((await mseErrorOf(accepting)).code).toBe('timeout');
  });
});

describe('shoal initiating to a hostile receiver', () => {
  it('the fake receiver, told no lie, completes the handshake and gets our IA', async () => {
    const { dialing, answered } = await dial({ padB: 512, padDLength: 512 });
    expect((await dialing).mode).toBe('rc4');
    expect((await answered).ia.toString()).toBe('initial payload');
  });

  it.each([
    [
      'a public key of 1',
      { publicKey: Buffer.concat([Buffer.alloc(95), Buffer.from([1])]) },
      'bad-public-key',
    ],
    ['no verification constant, 2000 bytes of junk instead', { junkInsteadOfVc: 2000 }, 'no-sync'],
    ['the verification constant after 513 bytes of PadB', { padB: 513 }, 'no-sync'],
    ['crypto_select 0', { select: 0 }, 'bad-crypto-select'],
    ['crypto_select naming an unknown method', { select: 0x08 }, 'bad-crypto-select'],
    ['crypto_select naming two methods', { select: 0x03 }, 'bad-crypto-select'],
    ['len(PadD) 513', { padDLength: 513 }, 'bad-length'],
  ] as const)('refuses %s', async (_name, knobs, code) => {
    const { dialing, pair } = await dial(knobs);
    expect((await mseErrorOf(dialing)).code).toBe(code);
    expect(pair.dialer.destroyed).toBe(true);
  });

  it('with policy require, refuses a receiver selecting plaintext', async () => {
    const { dialing } = await dial({ select: CryptoMethod.plaintext }, { policy: 'require' });
    expect((await mseErrorOf(dialing)).code).toBe('bad-crypto-select');
  });

  it('with policy prefer, accepts a receiver selecting plaintext', async () => {
    const { dialing } = await dial({ select: CryptoMethod.plaintext });
    expect((await dialing).mode).toBe('plaintext');
  });

  it('gives up on a receiver that stalls after its public key', async () => {
    const { dialing, pair } = await dial({ stallAfterYb: true }, { timeoutMs: 300 });
    expect((await mseErrorOf(dialing)).code).toBe('timeout');
    expect(pair.dialer.destroyed).toBe(true);
  });

  it('reports a receiver that hangs up mid-handshake as closed', async () => {
    const pair = tappedPair();
    const dialing = secureOutgoing(pair.dialer, {
      policy: 'require',
      infoHash,
      timeoutMs: NO_TIMEOUT,
    });
    pair.acceptor.once('data', () => pair.acceptor.destroy());
    expect((await mseErrorOf(dialing)).code).toBe('closed');
  });
});

describe('plaintext handshakes at the receiver', () => {
  const plain = Buffer.concat([
    Buffer.from([19]),
    Buffer.from('BitTorrent protocol'),
    Buffer.alloc(48),
  ]);

  it('with prefer, hands a plaintext handshake through untouched', async () => {
    const pair = tappedPair();
    const accepting = secureIncoming(pair.acceptor, { policy: 'prefer', lookup: () => undefined });
    pair.dialer.write(plain);
    const result = await accepting;
    expect(result.mode).toBe('none');
    expect(plain.subarray(0, result.received.length)).toEqual(result.received);
    expect(result.received.length).toBeGreaterThanOrEqual(20);
  });

  it('with require, refuses it', async () => {
    const pair = tappedPair();
    const accepting = secureIncoming(pair.acceptor, {
      policy: 'require',
      lookup: () => undefined,
      timeoutMs: NO_TIMEOUT,
    });
    pair.dialer.write(plain);
    expect((await mseErrorOf(accepting)).code).toBe('plaintext-refused');
  });
});
