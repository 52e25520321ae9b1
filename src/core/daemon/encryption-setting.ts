/**
 * Transmission's session `encryption` setting and the client's MSE policy
 * (core/transport/mse): "required" is `require`, "preferred" is `prefer`,
 * "tolerated" is `off`. Transmission's "tolerated" also accepts an encrypted
 * connection a peer opens; shoal's `off` speaks plaintext only, the nearest
 * policy it has.
 */
import type { EncryptionPolicy } from '../transport/mse/index.ts';

const SETTING_OF: Record<EncryptionPolicy, string> = {
  require: 'required',
  prefer: 'preferred',
  off: 'tolerated',
};

/** The session setting's value for a client policy. */
export function encryptionSetting(policy: EncryptionPolicy): string {
  return SETTING_OF[policy];
}

/** The client policy a session setting names, or null for a value Transmission does not have. */
export function encryptionPolicy(setting: unknown): EncryptionPolicy | null {
  const found = Object.entries(SETTING_OF).find(([, name]) => name === setting);
  return found ? (found[0] as EncryptionPolicy) : null;
}
