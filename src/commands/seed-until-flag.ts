/**
 * `--seed-until EXPR` for seed and download: its parsing (a typo is exit 2
 * before any work; the flag itself is in flags.ts, apart so that this file
 * loads without oclif), and the watch that ends seeding as a success when
 * the expression holds, saying which condition ended it. The expression
 * language and the scrape polling live in src/core/fleet/.
 */
import type { Metainfo } from '../core/metainfo/types.ts';
import type { TorrentSession } from '../core/session/torrent-session.ts';
import { parseSeedUntil } from '../core/fleet/seed-until-parser.ts';
import type { SeedUntil } from '../core/fleet/seed-until.ts';
import { SeedUntilWatch } from '../core/fleet/seed-until-watch.ts';
import { parseDuration, parseRatio } from './flag-values.ts';

/** The parsed expression, or null without the flag; UsageError (exit 2) for a mistake. */
export function parseSeedUntilFlag(text: string | undefined): SeedUntil | null {
  if (text === undefined) return null;
  return parseSeedUntil(text, { duration: parseDuration, ratio: parseRatio });
}

/**
 * Watches `expr` from the moment `session` starts seeding; when it holds,
 * `announce` gets the reason ("completed>=3 (3 completed)") and the session
 * ends with status `seeded`. `trackers` are scraped for `completed`.
 * Returns a function that stops the watch.
 */
export function watchSeedUntil(
  session: TorrentSession,
  expr: SeedUntil,
  meta: Metainfo,
  trackers: readonly string[],
  announce: (because: string) => void,
): () => void {
  let watch: SeedUntilWatch | null = null;
  const onPhase = (phase: string) => {
    if (phase !== 'seeding' || watch) return;
    const seedingSince = Date.now();
    let lastUploaded = session.stats().uploaded;
    let lastUploadAt = seedingSince;
    watch = new SeedUntilWatch({
      expr,
      sample: () => {
        const { uploaded, totalWanted } = session.stats();
        const now = Date.now();
        if (uploaded !== lastUploaded) {
          lastUploaded = uploaded;
          lastUploadAt = now;
        }
        return {
          idleMs: now - lastUploadAt,
          elapsedMs: now - seedingSince,
          ratio: totalWanted > 0 ? uploaded / totalWanted : 0,
        };
      },
      scrape: { infoHash: meta.infoHash ?? meta.infoHashV2!.subarray(0, 20), trackers },
      onMet: (_verdict, because) => {
        announce(because);
        session.endSeeding();
      },
    });
    watch.start();
  };
  // A leecher that finished tells its trackers `completed` before it hangs up: ask them early.
  const onPeerGone = () => watch?.poller?.soon();
  session.on('phase', onPhase);
  session.on('peer-disconnected', onPeerGone);
  return () => {
    session.off('phase', onPhase);
    session.off('peer-disconnected', onPeerGone);
    watch?.stop();
  };
}
