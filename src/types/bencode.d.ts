// The `bencode` package ships no types. Only the calls shoal makes are declared;
// decoding must go through src/core/bencode (guarded), never this module directly.
declare module 'bencode' {
  const bencode: {
    encode(value: unknown): Uint8Array;
    decode(data: Uint8Array, start?: number, end?: number, encoding?: string): unknown;
  };
  export default bencode;
}
