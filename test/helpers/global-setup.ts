/**
 * Runs once before vitest starts its workers: every test (and every shoal
 * process a test starts, which inherits the environment) keeps its per-user
 * state and cache (the resume key, the DHT routing table) in a temporary
 * folder of this run, never in the home directory of whoever runs the tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const home = mkdtempSync(join(tmpdir(), 'shoal-test-home-'));
  process.env.XDG_STATE_HOME = join(home, 'state');
  process.env.XDG_CACHE_HOME = join(home, 'cache');
  return () => rmSync(home, { recursive: true, force: true });
}
