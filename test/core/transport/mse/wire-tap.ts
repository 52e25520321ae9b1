/**
 * Two in-memory connected streams, as a dialled and an accepted socket would
 * be, with a recorder in the middle keeping every byte each side put on the
 * "wire" (to check what an observer would see). Closing or ending one side
 * does the same to the other, as TCP would.
 */
import { duplexPair, type Duplex } from 'node:stream';
import { expect } from 'vitest';
import { MseError } from '../../../../src/core/transport/mse/index.ts';

export interface TappedPair {
  dialer: Duplex;
  acceptor: Duplex;
  /** Every byte the dialer sent so far. */
  sentByDialer(): Buffer;
  sentByAcceptor(): Buffer;
}

export function tappedPair(): TappedPair {
  const [dialer, dialerWire] = duplexPair();
  const [acceptorWire, acceptor] = duplexPair();
  const fromDialer: Buffer[] = [];
  const fromAcceptor: Buffer[] = [];
  relay(dialerWire, acceptorWire, fromDialer);
  relay(acceptorWire, dialerWire, fromAcceptor);
  return {
    dialer,
    acceptor,
    sentByDialer: () => Buffer.concat(fromDialer),
    sentByAcceptor: () => Buffer.concat(fromAcceptor),
  };
}

function relay(from: Duplex, to: Duplex, record: Buffer[]): void {
  from.on('data', (chunk: Buffer) => {
    record.push(Buffer.from(chunk));
    to.write(chunk);
  });
  from.on('end', () => to.end());
  from.on('close', () => to.destroy());
  from.on('error', () => to.destroy());
}

/** Reads exactly `length` bytes from a (paused, handed-over) stream, after `received`. */
export function readBytes(
  stream: Duplex,
  length: number,
  received: Buffer<ArrayBufferLike> = Buffer.alloc(0),
): Promise<Buffer<ArrayBufferLike>> {
  return new Promise((resolve, reject) => {
    let got = received;
    const finish = () => {
      stream.off('data', onData);
      stream.off('close', onClose);
      stream.pause();
      resolve(got.subarray(0, length));
    };
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= length) finish();
    };
    const onClose = () => reject(new Error(`stream closed after ${got.length} of ${length} bytes`));
    if (got.length >= length) return finish();
    stream.on('data', onData);
    stream.on('close', onClose);
    stream.resume();
  });
}

/** Resolves when the stream has closed (or ended): the peer hung up. */
export function closed(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed) return resolve();
    stream.once('close', () => resolve());
    stream.once('end', () => resolve());
    stream.resume();
  });
}

/** The MseError a handshake promise rejects with (failing the test if it resolves). */
export async function mseErrorOf(promise: Promise<unknown>): Promise<MseError> {
  const error = await promise.then(
    () => new Error('the handshake succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MseError);
  return error as MseError;
}
