/**
 * The daemon's session settings, under Transmission's RPC names (what
 * session-get shows and session-set changes; settings.json in the state
 * directory keeps them). Speeds are kB/s (1000 bytes), as the RPC's `units`
 * say. Only the keys listed here are kept: anything else in a settings file
 * is ignored.
 */
import { DEFAULT_ENCRYPTION } from '../transport/mse/index.ts';
import { encryptionSetting } from './encryption-setting.ts';

export interface DaemonSettings {
  'download-dir': string;
  'speed-limit-down': number;
  'speed-limit-down-enabled': boolean;
  'speed-limit-up': number;
  'speed-limit-up-enabled': boolean;
  'alt-speed-down': number;
  'alt-speed-up': number;
  'alt-speed-enabled': boolean;
  'peer-limit-global': number;
  'peer-limit-per-torrent': number;
  'download-queue-enabled': boolean;
  'download-queue-size': number;
  'seed-queue-enabled': boolean;
  'seed-queue-size': number;
  seedRatioLimit: number;
  seedRatioLimited: boolean;
  'idle-seeding-limit': number;
  'idle-seeding-limit-enabled': boolean;
  'start-added-torrents': boolean;
  'dht-enabled': boolean;
  'pex-enabled': boolean;
  'lpd-enabled': boolean;
  'utp-enabled': boolean;
  /** "required", "preferred" or "tolerated" (encryption-setting.ts maps them to the client's policy). */
  encryption: string;
  'incomplete-dir': string;
  'incomplete-dir-enabled': boolean;
  'rename-partial-files': boolean;
  'queue-stalled-enabled': boolean;
  'queue-stalled-minutes': number;
}

export function defaultSettings(downloadDir: string): DaemonSettings {
  return {
    'download-dir': downloadDir,
    'speed-limit-down': 100,
    'speed-limit-down-enabled': false,
    'speed-limit-up': 100,
    'speed-limit-up-enabled': false,
    'alt-speed-down': 50,
    'alt-speed-up': 50,
    'alt-speed-enabled': false,
    'peer-limit-global': 200,
    'peer-limit-per-torrent': 50,
    'download-queue-enabled': true,
    'download-queue-size': 5,
    'seed-queue-enabled': false,
    'seed-queue-size': 10,
    seedRatioLimit: 2,
    seedRatioLimited: false,
    'idle-seeding-limit': 30,
    'idle-seeding-limit-enabled': false,
    'start-added-torrents': true,
    'dht-enabled': true,
    'pex-enabled': true,
    'lpd-enabled': false,
    'utp-enabled': false,
    encryption: encryptionSetting(DEFAULT_ENCRYPTION),
    'incomplete-dir': downloadDir,
    'incomplete-dir-enabled': false,
    'rename-partial-files': false,
    'queue-stalled-enabled': false,
    'queue-stalled-minutes': 30,
  };
}

/**
 * `base` with the values of `changes` whose key is known and whose type
 * matches the default's (a hand-edited file with a string for a number is
 * ignored there, not obeyed).
 */
export function mergeSettings(
  base: DaemonSettings,
  changes: Record<string, unknown>,
): DaemonSettings {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (key in base && typeof value === typeof out[key]) out[key] = value;
  }
  return out as unknown as DaemonSettings;
}

/** The session-wide cap in bytes per second, or undefined when off. */
export function sessionLimit(
  settings: DaemonSettings,
  direction: 'down' | 'up',
): number | undefined {
  if (settings['alt-speed-enabled']) return settings[`alt-speed-${direction}`] * 1000;
  return settings[`speed-limit-${direction}-enabled`]
    ? settings[`speed-limit-${direction}`] * 1000
    : undefined;
}
