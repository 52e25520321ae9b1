/**
 * Connecting to a peer over two transports at once ("happy eyeballs", RFC
 * 8305's idea applied to TCP and uTP): the preferred attempt starts at once,
 * the other after a head start, or as soon as the preferred one fails. The
 * first stream to connect wins; one that connects later is destroyed before a
 * byte is sent on it, so the peer sees at most a connection that opens and
 * closes.
 */
import type { Duplex } from 'node:stream';

export interface RaceEntrant<T = Duplex> {
  /** For the error message when every attempt fails ("tcp", "utp"). */
  name: string;
  /** Resolves once usable: connected, or connected and past an encryption handshake. */
  connect(): Promise<T>;
}

/** `T` is a stream, or anything holding one that `discard` can destroy. */
export function raceConnect<T = Duplex>(
  preferred: RaceEntrant<T>,
  fallback: RaceEntrant<T>,
  headStartMs: number,
  discard: (loser: T) => void = (loser) => (loser as Duplex).destroy(),
): Promise<T> {
  return new Promise((resolve, reject) => {
    let winner: T | null = null;
    let fallbackStarted = false;
    const failures: string[] = [];
    let pending = 0;

    const run = (entrant: RaceEntrant<T>) => {
      pending++;
      entrant.connect().then(
        (stream) => {
          pending--;
          if (winner) {
            discard(stream);
            return;
          }
          winner = stream;
          clearTimeout(timer);
          resolve(stream);
        },
        (error: Error) => {
          pending--;
          failures.push(`${entrant.name}: ${error.message}`);
          if (winner) return;
          if (!fallbackStarted) startFallback();
          else if (pending === 0) reject(new Error(failures.join('; ')));
        },
      );
    };
    const startFallback = () => {
      if (fallbackStarted || winner) return;
      fallbackStarted = true;
      clearTimeout(timer);
      run(fallback);
    };

    const timer = setTimeout(startFallback, headStartMs);
    run(preferred);
  });
}
