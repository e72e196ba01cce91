/**
 * The one place the bench calls fewshot-edge's Node loader, so an API change touches one function.
 *
 * Two configurations are measured: `default` is what `createClassifier` gives a user (a worker-thread
 * pool sized by the library, one WASM backend per thread), `thread` is `workers: 0` (the model in the
 * calling thread, exactly like the peer pipeline).
 */
import * as tf from '@tensorflow/tfjs-core';
// The built package, as users run it (`npm run bench` builds first); its worker threads then run plain JS.
import { createClassifier, loadNodeEmbedder, MemoryStore, WorkerPoolEmbedder, type Embedder, type FewShotClassifier } from '../dist/node/index.js';
import type { ModelName } from '../src/models.js';

export type OursConfig = 'default' | 'thread';

const loaderOptions = (model: ModelName, config: OursConfig) => (config === 'thread' ? { model, workers: 0 } : { model });

/**
 * The library's embedder for `config`. A pool answers from the calling thread until its threads are
 * ready (`WorkerPoolEmbedder.warmStart`): with `waitForThreads` (the default, for the steady-state steps)
 * this resolves only once they are, so every timed call runs on the threads; the cold start passes false.
 */
export async function loadOurs(model: ModelName, config: OursConfig, { waitForThreads = true } = {}): Promise<Embedder> {
  const embedder = await loadNodeEmbedder(loaderOptions(model, config));
  if (waitForThreads) await threadsReady(embedder);
  // A pool reports the calling thread's backend (its threads each assert wasm in useWasmBackend, or fail to
  // start, which rejects `ready`); in-thread, the global tf backend is the one that runs the model.
  const backend = config === 'thread' ? tf.getBackend() : embedder.backend;
  if (backend !== 'wasm' || embedder.backend !== 'wasm') {
    throw new Error(`Our ${config} embedder runs on "${backend}", not wasm.`);
  }
  return embedder;
}

/** Resolves when a pool's worker threads take the requests (at once for an in-thread embedder). */
export async function threadsReady(embedder: Embedder): Promise<void> {
  if (embedder instanceof WorkerPoolEmbedder) await embedder.ready;
}

/** Worker threads the library starts by default (0 = in-thread), read from the embedder it returned. */
export function workerCount(embedder: Embedder): number {
  const size = (embedder as { size?: unknown }).size;
  return typeof size === 'number' ? size : 0;
}

/**
 * A classifier as a user opens it, `createClassifier({ userId, store, model[, workers: 0][, flip] })`, with a
 * fresh `MemoryStore`. `flip` undefined = the library default (flip averaging on). It must run on the
 * embedder `loadOurs` returned for this config (warmed up by the embedding steps), not on a second, cold
 * one: both come from the built package's per-process cache, which is checked here. (The TypeScript
 * sources, `../node/index.js` under tsx, are a separate module with a separate cache and pool.)
 */
export async function openOursClassifier(model: ModelName, config: OursConfig, embedder: Embedder, flip?: boolean): Promise<FewShotClassifier> {
  const options = loaderOptions(model, config);
  if ((await loadNodeEmbedder(options)) !== embedder) {
    throw new Error(`createClassifier would not reuse the loaded ${config} embedder: the bench would time a cold one.`);
  }
  return createClassifier({ userId: 'bench', store: new MemoryStore(), ...options, ...(flip === undefined ? {} : { flip }) });
}
