/** Public API of the PEX module: the BEP 11 ut_pex codec, per-peer diff state, and what we take from peers. */
export {
  UT_PEX,
  MAX_PEX_PEERS,
  MAX_PEX_PAYLOAD,
  PEX_SEND_LIMIT,
  PexFlag,
  addressKeyOf,
  compactPeer,
  decodePex,
  encodePex,
  type PexAddress,
  type PexMessage,
  type PexPeer,
} from './ut-pex-codec.ts';
export { PexState, type PexStateOptions } from './pex-state.ts';
export { PexIntake, type PexIntakeOptions, type PexSender } from './pex-intake.ts';
export { addressScope, mayAdvertise, type AddressScope } from './address-scope.ts';
