/**
 * Web Worker entry: the SDK off the main thread. Start it as a module worker and talk to it with
 * {@link connectWorker} (`sdk/worker-client.ts`):
 *
 * ```ts
 * const worker = new Worker(new URL('fewshot-edge/sdk/worker', import.meta.url), { type: 'module' });
 * const clf = await connectWorker(worker, { userId: 'alice' });
 * ```
 * In the worker there is no DOM: the client turns page images into ImageBitmaps before sending them.
 */
import { expose, proxy } from 'comlink';
import { createClassifier, type BrowserClassifierOptions } from './index.js';
import { keepErrorCodes } from './worker-protocol.js';

keepErrorCodes();

const api = {
  /** Opens a classifier in the worker; the main thread gets a proxy to it. */
  async open(options: BrowserClassifierOptions) {
    return proxy(await createClassifier(options));
  },
};

export type WorkerApi = typeof api;

expose(api);
