/**
 * What piscina loads in each worker thread (see worker-location.ts). CommonJS
 * on purpose: piscina `require`s its worker file, and on Node 24 requiring an
 * ES module goes through a path that aborts the whole process (a failed CHECK
 * in node::loader::ModuleWrap::CreateRequiredModuleFacade, seen in CI) when
 * the pool is destroyed while a thread is still loading the module, which
 * happens when the calling thread has already done all the work. A dynamic
 * import loads the same module without that path; piscina awaits the promise.
 */
module.exports = import('./hash-worker.ts').then((worker) => worker.default);
