/** The command map oclif loads (explicit strategy: no file-system discovery, so bundling works). */
import Create from './create.ts';
import Daemon from './daemon.ts';
import Download from './download.ts';
import Inspect from './inspect.ts';
import Keygen from './keygen.ts';
import Publish from './publish.ts';
import Remote from './remote.ts';
import Seed from './seed.ts';
import Tracker from './tracker.ts';
import Tui from './tui.ts';

export const commands = {
  create: Create,
  daemon: Daemon,
  download: Download,
  inspect: Inspect,
  keygen: Keygen,
  publish: Publish,
  remote: Remote,
  seed: Seed,
  tracker: Tracker,
  tui: Tui,
};
