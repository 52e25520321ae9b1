/**
 * One answer from a tracker announced to over IPv4 and IPv6 at once (see
 * Announcer): when to stop waiting for the second family, and the peers of
 * both with one set of numbers.
 */
import { dedupePeers } from '../net/compact-peers.ts';
import type { AnnounceResponse } from './types.ts';

export interface FamilyAnswers {
  /** The answers in when the announce is reported, IPv4's first. */
  answers: AnnounceResponse[];
  /** Families still on their way then; each may yet bring peers (or reject). */
  late: Promise<AnnounceResponse>[];
}

/**
 * Waits for the announces over each family until all have settled, or until
 * `graceMs` after the first answer, whichever comes first: a family that is
 * broken on this network (an IPv6 route that leads nowhere is common) then
 * holds back the other family's peers by `graceMs`, not by a whole request
 * timeout. Rejects with the first family's error when none answers.
 */
export function gatherFamilyAnswers(
  pending: readonly Promise<AnnounceResponse>[],
  graceMs: number,
): Promise<FamilyAnswers> {
  return new Promise((resolve, reject) => {
    const answers: (AnnounceResponse | undefined)[] = [];
    const errors: unknown[] = [];
    const settled = pending.map(() => false);
    let grace: NodeJS.Timeout | undefined;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(grace);
      const got = answers.filter((a): a is AnnounceResponse => a !== undefined);
      if (got.length === 0) reject(errors.find((e) => e !== undefined));
      else resolve({ answers: got, late: pending.filter((_, i) => !settled[i]) });
    };
    pending.forEach((promise, i) => {
      promise
        .then(
          (answer) => {
            answers[i] = answer;
          },
          (error: unknown) => {
            errors[i] = error;
          },
        )
        .finally(() => {
          settled[i] = true;
          if (settled.every(Boolean)) finish();
          else if (answers[i] !== undefined && grace === undefined)
            grace = setTimeout(finish, graceMs);
        });
    });
  });
}

/** Merges the answers (IPv4's first) of one tracker's announces over each address family. */
export function mergeFamilyResponses(answers: readonly AnnounceResponse[]): AnnounceResponse {
  const most = (pick: (a: AnnounceResponse) => number | undefined): number | undefined => {
    const values = answers.map(pick).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : Math.max(...values);
  };
  return {
    // Each family's announce is scheduled together: the longer interval honours both.
    interval: most((a) => a.interval),
    minInterval: most((a) => a.minInterval),
    // The tracker counts us once per family; the larger count is the closer one.
    seeders: most((a) => a.seeders),
    leechers: most((a) => a.leechers),
    warning: answers.find((a) => a.warning !== undefined)?.warning,
    trackerId: answers.find((a) => a.trackerId !== undefined)?.trackerId,
    peers: dedupePeers(answers.flatMap((a) => a.peers)),
  };
}
