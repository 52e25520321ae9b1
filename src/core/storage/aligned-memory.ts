/**
 * Shared memory whose start is aligned to a memory page, so the disk can be
 * written from it with O_DIRECT (which needs the buffer's address, the file
 * position and the length all on block boundaries).
 *
 * JavaScript cannot learn a buffer's address, and a SharedArrayBuffer's start
 * is wherever malloc put it (16 bytes past a page for large sizes). A
 * WebAssembly memory, though, is always mapped at a page boundary, and a
 * shared one hands out a plain SharedArrayBuffer that workers can use like
 * any other. Buffers made here are remembered, so `isPageAligned` can answer
 * for any view without guessing.
 */

/** The alignment O_DIRECT needs on every Linux file system (logical blocks are 512 B or 4 KiB). */
export const DIRECT_IO_ALIGNMENT = 4096;

const WASM_PAGE = 64 * 1024;
/** WebAssembly memories are limited to 65536 pages (4 GiB). */
const MAX_WASM_PAGES = 65536;

const alignedBuffers = new WeakSet<SharedArrayBuffer>();

/** The one WebAssembly constructor we use (the DOM-free type library does not declare it). */
interface WasmGlobal {
  WebAssembly: {
    Memory: new (shape: { initial: number; maximum: number; shared: true }) => {
      buffer: SharedArrayBuffer;
    };
  };
}

/**
 * A page-aligned SharedArrayBuffer of at least `bytes` bytes. Untouched pages
 * cost no memory (the kernel maps them on first write), as with any buffer.
 */
export function allocateAligned(bytes: number): SharedArrayBuffer {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE));
  if (pages > MAX_WASM_PAGES)
    throw new RangeError(`cannot allocate ${bytes} bytes of aligned memory`);
  const { Memory } = (globalThis as unknown as WasmGlobal).WebAssembly;
  const buffer = new Memory({ initial: pages, maximum: pages, shared: true }).buffer;
  alignedBuffers.add(buffer);
  return buffer;
}

/** True when `view` starts on a page boundary in memory made by allocateAligned. */
export function isPageAligned(view: Uint8Array): boolean {
  return (
    view.buffer instanceof SharedArrayBuffer &&
    alignedBuffers.has(view.buffer) &&
    view.byteOffset % DIRECT_IO_ALIGNMENT === 0
  );
}
