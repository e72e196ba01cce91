/**
 * Web Worker entry: the SDK off the main thread. Start it as a module worker and talk to it with
 * {@link connectWorker} (`sdk/worker-client.ts`):
 *
 * ```ts
 * // classifier.worker.js, the app's own worker file, is one line:
 * import 'fewshot-edge/sdk/worker';
 * // the page:
 * const worker = new Worker(new URL('./classifier.worker.js', import.meta.url), { type: 'module' });
 * const clf = await connectWorker(worker, { userId: 'alice' });
 * ```
 * In the worker there is no DOM: the client turns page images into ImageBitmaps before sending them.
 */
import { expose, proxy } from 'comlink';
import { createClassifier, type BrowserClassifierOptions } from './index.js';
import { keepErrorCodes } from './worker-protocol.js';

keepErrorCodes();

const api = {
  /** Answers as soon as the worker's script has run: the client's check that it started at all. */
  ping: () => 'fewshot-edge' as const,
  /** Opens a classifier in the worker; the main thread gets a proxy to it. */
  async open(options: BrowserClassifierOptions) {
    return proxy(await createClassifier(options));
  },
};

export type WorkerApi = typeof api;

expose(api);
