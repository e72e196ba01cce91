/**
 * fewshot-edge for Node: `createClassifier({ userId })` with the WASM backend, weights read from a local
 * folder and examples kept in a file store.
 */
import { FewShotClassifier, type HeadSettings } from '../src/classifier.js';
import { loadEmbedder, type Embedder, type ModelSource } from '../src/embedder.js';
import { FewshotError } from '../src/errors.js';
import { DEFAULT_MODEL, isModelName, MODELS, type ModelName } from '../src/models.js';
import type { ImageLimits } from '../src/pixels.js';
import type { ExampleStore } from '../src/store.js';
import { useWasmBackend } from './backend.js';
import { availableParallelism } from 'node:os';
import { FileStore } from './file-store.js';
import { localModelSource, modelFolder } from './model-files.js';
import { WorkerPoolEmbedder } from './worker-pool.js';

export * from '../src/index.js';
export { useWasmBackend } from './backend.js';
export { defaultStoreDir, FileStore } from './file-store.js';
export { defaultModelDir, fileModelSource, localModelSource, modelFolder } from './model-files.js';
export { WorkerPoolEmbedder } from './worker-pool.js';

/** Options of {@link createClassifier}. Only `userId` is required. */
export interface NodeClassifierOptions {
  /** Whose examples to use; each user has a separate namespace in the store. */
  userId: string;
  /**
   * A model name (default `mobilenet_v2_100`), or a name with where to load it from: a folder holding
   * `model.json` (or the model's `.tflite`), an http(s) URL of that file, or a `tf.io.IOHandler`. By default weights are read from
   * `defaultModelDir()`: `FEWSHOT_MODEL_DIR`, else a per-user cache folder when the package is installed,
   * else a checkout's `models/` (`npx fewshot fetch-model` fills it).
   */
  model?: ModelName | { name: ModelName; source?: ModelSource };
  /** A folder for the file store (default `FEWSHOT_STORE` or `~/.fewshot`), or any {@link ExampleStore}. */
  store?: string | ExampleStore;
  /** Head settings: `kind` (`prototype` | `knn`), `k`, `temperature`, `unknownThreshold`, `transform`. */
  head?: HeadSettings;
  /** Average each embedding with the mirror image's (default true; see `ClassifierParts.flip`). */
  flip?: boolean;
  /** Limits on image bytes and pixels (defaults: 20 MiB, 50 MP). */
  limits?: ImageLimits;
  /**
   * Worker threads that run the model (default: one per core, at most 4). Once they are ready
   * (`WorkerPoolEmbedder.ready`) inference never blocks the calling thread and batches use every core; until
   * then the calling thread answers, so the first embedding does not wait for them. `0` runs the model in the
   * calling thread only, and is required to pass a model as a `tf.io.IOHandler`.
   */
  workers?: number;
}

/** Options of {@link loadNodeEmbedder}. */
export type NodeEmbedderOptions = Pick<NodeClassifierOptions, 'model' | 'limits' | 'workers'>;

const defaultWorkers = () => (availableParallelism() > 1 ? Math.min(availableParallelism(), 4) : 0);

const embedders = new Map<string, Promise<Embedder>>();

/**
 * Loads a MobileNet embedder on the WASM backend, in worker threads or in this thread (see `workers`).
 * Embedders for a model folder or URL are loaded once per process and shared by every user.
 */
export async function loadNodeEmbedder(options: NodeEmbedderOptions = {}): Promise<Embedder> {
  const model = options.model ?? DEFAULT_MODEL;
  const name = typeof model === 'string' ? model : model.name;
  if (!isModelName(name)) {
    throw new FewshotError('INVALID_ARGUMENT', `Unknown model ${JSON.stringify(name)}: use one of ${Object.keys(MODELS).join(', ')}.`);
  }
  const given = typeof model === 'string' ? undefined : model.source;
  const source: ModelSource = given === undefined ? modelFolder(name) : given;
  const workers = options.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 0) throw new FewshotError('INVALID_ARGUMENT', `workers must be a whole number >= 0, got ${workers}.`);
  const { limits } = options;
  if (typeof source !== 'string') {
    if (workers > 0) throw new FewshotError('INVALID_ARGUMENT', 'A tf.io.IOHandler cannot be sent to worker threads: pass workers: 0, or a folder or URL.');
    await useWasmBackend();
    return loadEmbedder({ model: name, source, ...(limits ? { limits } : {}) });
  }
  const key = JSON.stringify([name, source, limits ?? null, workers]);
  const cached = embedders.get(key);
  if (cached) return cached;
  const loading = (async (): Promise<Embedder> => {
    if (workers > 0) return WorkerPoolEmbedder.warmStart({ model: name, source, ...(limits ? { limits } : {}) }, workers);
    await useWasmBackend();
    return loadEmbedder({ model: name, source: localModelSource(name, source), ...(limits ? { limits } : {}) });
  })();
  embedders.set(key, loading);
  loading.then(
    (embedder) => {
      // A disposed embedder must not be handed out again: the next load starts afresh.
      const dispose = embedder.dispose.bind(embedder);
      embedder.dispose = () => {
        if (embedders.get(key) === loading) embedders.delete(key);
        dispose();
      };
    },
    () => embedders.delete(key), // a failed load is retried next time
  );
  return loading;
}

/**
 * Opens a user's few-shot classifier in Node.
 *
 * ```ts
 * const clf = await createClassifier({ userId: 'alice' });
 * await clf.addExample('okapi', await readFile('okapi.jpg'));
 * const { label, confidence, unknown } = await clf.classify(await readFile('x.jpg'));
 * ```
 */
export async function createClassifier(options: NodeClassifierOptions): Promise<FewShotClassifier> {
  if (!options || typeof options !== 'object') throw new FewshotError('INVALID_ARGUMENT', 'createClassifier needs an options object with a userId.');
  const embedder = await loadNodeEmbedder(options);
  const store = typeof options.store === 'object' ? options.store : new FileStore(options.store);
  return FewShotClassifier.open({
    userId: options.userId,
    embedder,
    store,
    ...(options.head ? { head: options.head } : {}),
    ...(options.flip !== undefined ? { flip: options.flip } : {}),
  });
}
