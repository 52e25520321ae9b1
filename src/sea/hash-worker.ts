/**
 * The hash worker as the single executable ships it: a bundled file extracted
 * next to the xxhash addon (src/sea/assets.ts). It names the addon before the
 * worker's modules load (hence the dynamic import), and hands piscina the
 * handler as a promise, which piscina awaits.
 */
import { fileURLToPath } from 'node:url';
import { useExtractedXxhash } from '../core/native/xxhash.ts';

useExtractedXxhash(fileURLToPath(new URL('./xxhash.node', import.meta.url)));

export default import('../core/hashing/hash-worker.ts').then((worker) => worker.default);
