// Message Stream Encryption / Protocol Encryption: see docs/ENCRYPTION.md.
export { MseError, type MseErrorCode } from './errors.ts';
export {
  DEFAULT_ENCRYPTION,
  ENCRYPTION_POLICIES,
  parseEncryptionPolicy,
  type EncryptionPolicy,
} from './policy.ts';
export { SkeyIndex, type SkeyLookup } from './skey-index.ts';
export { MseStream } from './mse-stream.ts';
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  secureIncoming,
  secureOutgoing,
  type IncomingOptions,
  type OutgoingOptions,
  type SecuredConnection,
} from './establish.ts';
export { dialKeyPairs, KeyPairSupply } from './key-pairs.ts';
