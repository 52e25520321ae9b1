// The peer wire protocol codec: pure functions and classes over bytes, no I/O.
export * from './errors.ts';
export * from './handshake.ts';
export * from './messages.ts';
export * from './decoder.ts';
export * from './bitfield.ts';
export * from './extension.ts';
export * from './peer-id.ts';
export { displaySafe, displayBytes } from './display.ts';
