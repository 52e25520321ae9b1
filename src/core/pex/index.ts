/** Public API of the PEX module: the BEP 11 ut_pex codec and per-peer diff state. */
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
