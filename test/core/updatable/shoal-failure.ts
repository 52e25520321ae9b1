import { expect } from 'vitest';
import { ShoalError } from '../../../src/core/errors.ts';

/** The ShoalError `promise` rejects with (fails the test if it resolves or rejects otherwise). */
export async function shoalFailure(promise: Promise<unknown>): Promise<ShoalError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ShoalError);
  return error as ShoalError;
}
