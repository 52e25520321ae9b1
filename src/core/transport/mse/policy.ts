/**
 * Which connections an encryption policy makes and accepts, as the bits of
 * MSE's crypto_provide / crypto_select fields.
 *
 * - `prefer` (the default): dial with MSE offering RC4 and plaintext, pick RC4
 *   when the peer offers it; accept plaintext BitTorrent handshakes too.
 * - `require`: dial and accept MSE with RC4 only; refuse plaintext handshakes
 *   and MSE's plaintext mode.
 * - `off`: no MSE at all: dial with a plain BitTorrent handshake and refuse
 *   incoming MSE handshakes.
 */
import { UsageError } from '../../errors.ts';

export const ENCRYPTION_POLICIES = ['prefer', 'require', 'off'] as const;
export type EncryptionPolicy = (typeof ENCRYPTION_POLICIES)[number];
/** What download, seed and the daemon use unless told otherwise (issue #16; Transmission's "preferred"). */
export const DEFAULT_ENCRYPTION: EncryptionPolicy = 'prefer';

/** The crypto methods of the MSE spec; a crypto_provide field ORs them together. */
export const CryptoMethod = {
  plaintext: 0x01,
  rc4: 0x02,
} as const;

/** What a policy offers in crypto_provide when it dials (0 for `off`: no MSE). */
export function cryptoProvideFor(policy: EncryptionPolicy): number {
  switch (policy) {
    case 'prefer':
      return CryptoMethod.plaintext | CryptoMethod.rc4;
    case 'require':
      return CryptoMethod.rc4;
    case 'off':
      return 0;
  }
}

/**
 * The method a receiver picks from the peer's crypto_provide: RC4 when both
 * allow it, else plaintext when both allow that, else 0 (refuse). Bits we do
 * not know are ignored, as the spec asks.
 */
export function selectCrypto(allowed: number, provided: number): number {
  const common = allowed & provided;
  if (common & CryptoMethod.rc4) return CryptoMethod.rc4;
  if (common & CryptoMethod.plaintext) return CryptoMethod.plaintext;
  return 0;
}

/** Parses the text of an `--encryption` flag. */
export function parseEncryptionPolicy(text: string): EncryptionPolicy {
  const policy = ENCRYPTION_POLICIES.find((name) => name === text);
  if (!policy) {
    throw new UsageError(`--encryption must be one of ${ENCRYPTION_POLICIES.join(', ')}: ${text}`);
  }
  return policy;
}
