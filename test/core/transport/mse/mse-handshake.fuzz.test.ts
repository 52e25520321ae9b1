/**
 * Properties of the handshake as a whole:
 * - however the bytes are cut up in transit (any split, delivered over
 *   several turns of the event loop), two shoals that should connect do, in
 *   the expected mode, and the initial payload and the bytes after it arrive
 *   intact;
 * - whatever bytes a peer sends before hanging up (random, or a valid DH key
 *   followed by random bytes), each side rejects with an MseError: it never
 *   resolves, throws anything else, or waits past the hang-up.
 * Seed: test/helpers/fuzz.ts (FUZZ_SEED). Each run is a whole handshake (two
 * Diffie-Hellman key pairs, two RC4 set-ups, many event-loop turns), about a
 * millisecond of CPU, so these run a tenth of FUZZ_RUNS (500 by default).
 */
import { randomBytes } from 'node:crypto';
import { duplexPair, type Duplex } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../../../src/core/transport/mse/diffie-hellman.ts';
import {
  MseError,
  SkeyIndex,
  secureIncoming,
  secureOutgoing,
  type EncryptionPolicy,
} from '../../../../src/core/transport/mse/index.ts';
import { fuzzOptions, fuzzTimeout, numRuns } from '../../../helpers/fuzz.ts';
import { readBytes } from './wire-tap.ts';

const infoHash = randomBytes(20);
const skeys = new SkeyIndex();
skeys.add(infoHash);
const NO_TIMEOUT = 60_000;
/** A handshake that lost bytes in transit would wait forever: this turns it into a failing run. */
const STUCK = 10_000;

/** Connected streams whose bytes travel in pieces of the given sizes (cycled), one piece per turn. */
function choppedPair(sizes: number[]): { dialer: Duplex; acceptor: Duplex } {
  const [dialer, dialerWire] = duplexPair();
  const [acceptorWire, acceptor] = duplexPair();
  chop(dialerWire, acceptorWire, sizes);
  chop(acceptorWire, dialerWire, sizes);
  return { dialer, acceptor };
}

function chop(from: Duplex, to: Duplex, sizes: number[]): void {
  const queue: Buffer[] = [];
  let pumping = false;
  let turn = 0;
  const pump = async () => {
    pumping = true;
    while (queue.length > 0) {
      const head = queue[0];
      const size = sizes[turn++ % sizes.length];
      to.write(head.subarray(0, size));
      if (head.length > size) queue[0] = head.subarray(size);
      else queue.shift();
      await new Promise((resolve) => setImmediate(resolve));
    }
    pumping = false;
  };
  from.on('data', (chunk: Buffer) => {
    queue.push(Buffer.from(chunk));
    if (!pumping) void pump();
  });
}

const connecting: [EncryptionPolicy, EncryptionPolicy][] = [
  ['prefer', 'prefer'],
  ['prefer', 'require'],
  ['require', 'prefer'],
  ['require', 'require'],
];

const garbage = fc.oneof(
  fc.uint8Array({ maxLength: 1500 }),
  fc
    .uint8Array({ maxLength: 1500 })
    .map((tail) => Buffer.concat([generateKeyPair().publicKey, tail])),
);

function fuzzIt<Ts extends unknown[]>(name: string, property: fc.IAsyncProperty<Ts>): void {
  it(
    name,
    () => fc.assert(property, fuzzOptions({ numRuns: Math.ceil(numRuns / 10) })),
    fuzzTimeout,
  );
}

async function mustReject(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => new Error('the handshake succeeded on garbage'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MseError);
}

describe('MSE handshake properties', () => {
  fuzzIt(
    'connects and carries data intact however the bytes are cut up in transit',
    fc.asyncProperty(
      fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 12 }),
      fc.constantFrom(...connecting),
      fc.uint8Array({ maxLength: 200 }),
      fc.uint8Array({ minLength: 1, maxLength: 3000 }),
      async (sizes, [dialerPolicy, acceptorPolicy], ia, after) => {
        const pair = choppedPair(sizes);
        const [dialer, acceptor] = await Promise.all([
          secureOutgoing(pair.dialer, {
            policy: dialerPolicy,
            infoHash,
            initialPayload: ia,
            timeoutMs: STUCK,
          }),
          secureIncoming(pair.acceptor, {
            policy: acceptorPolicy,
            lookup: skeys.lookup,
            timeoutMs: STUCK,
          }),
        ]);
        expect(dialer.mode).toBe('rc4');
        expect(acceptor.mode).toBe('rc4');
        dialer.stream.write(after);
        const got = await readBytes(acceptor.stream, ia.length + after.length, acceptor.received);
        expect(Buffer.from(got)).toEqual(Buffer.concat([ia, after]));
        dialer.stream.destroy();
        acceptor.stream.destroy();
      },
    ),
  );

  fuzzIt(
    'a receiver rejects whatever a peer sends before hanging up',
    fc.asyncProperty(garbage, async (bytes) => {
      const [peer, ours] = duplexPair();
      const accepting = secureIncoming(ours, {
        policy: 'require',
        lookup: skeys.lookup,
        timeoutMs: NO_TIMEOUT,
      });
      peer.on('data', () => {});
      peer.end(bytes);
      await mustReject(accepting);
    }),
  );

  fuzzIt(
    'an initiator rejects whatever a peer answers before hanging up',
    fc.asyncProperty(garbage, async (bytes) => {
      const [ours, peer] = duplexPair();
      const dialing = secureOutgoing(ours, { policy: 'prefer', infoHash, timeoutMs: NO_TIMEOUT });
      peer.on('data', () => {});
      peer.end(bytes);
      await mustReject(dialing);
    }),
  );
});
