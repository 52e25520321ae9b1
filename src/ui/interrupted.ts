/**
 * The one line a stopped download or seed leaves behind (Ctrl-C, SIGTERM):
 * what is safely on disk and how to continue. It becomes the message of the
 * InterruptedError, so it prints in every output mode, --quiet included.
 */
import { formatBytes, formatDuration } from './format.ts';
import type { SessionSnapshot } from './session-model.ts';

export function interruptedMessage(snap: SessionSnapshot, outDir: string): string {
  const { stats } = snap;
  const time = formatDuration(stats.elapsedMs / 1000);
  if (snap.verb === 'seed' || stats.left === 0)
    return `stopped after ${time}: ${snap.name} complete in ${outDir}, sent ${formatBytes(stats.uploaded)}`;
  return `interrupted after ${time}: ${stats.piecesVerified}/${stats.piecesWanted} pieces (${formatBytes(stats.haveWanted)} of ${formatBytes(stats.totalWanted)}) verified and saved in ${outDir}; run the same command again to resume`;
}
