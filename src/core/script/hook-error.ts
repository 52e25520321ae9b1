/**
 * A required hook (`--on-done-required`) that failed after a successful run.
 * shoal then exits as a shell running `shoal ... && hook` would: with the
 * hook's own exit status, 124 when it timed out (as timeout(1) does), 127
 * when it could not be started, 128+N when signal N killed it.
 */
import { ShoalError, type ExitCodeValue } from '../errors.ts';

export class HookError extends ShoalError {
  constructor(message: string, status: number) {
    // The hook's status is outside shoal's own table of codes by design (see above).
    super(message, status as ExitCodeValue);
  }
}
