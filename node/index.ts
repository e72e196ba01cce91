/**
 * fewshot-edge for Node: `createClassifier({ userId })` with the WASM backend, weights read from a local
 * folder and examples kept in a file store.
 */
import { FewShotClassifier, type HeadSettings } from '../src/classifier.js';
import { loadEmbedder, type Embedder, type ModelSource } from '../src/embedder.js';
import { FewshotError } from '../src/errors.js';
import { DEFAULT_MODEL, isModelName, type ModelName } from '../src/models.js';
import type { ImageLimits } from '../src/pixels.js';
import type { ExampleStore } from '../src/store.js';
import { useWasmBackend } from './backend.js';
import { FileStore } from './file-store.js';
import { fileModelSource, modelFolder } from './model-files.js';

export * from '../src/index.js';
export { useWasmBackend } from './backend.js';
export { defaultStoreDir, FileStore } from './file-store.js';
export { defaultModelDir, fileModelSource, modelFolder } from './model-files.js';

/** Options of {@link createClassifier}. Only `userId` is required. */
export interface NodeClassifierOptions {
  /** Whose examples to use; each user has a separate namespace in the store. */
  userId: string;
  /**
   * A model name (default `mobilenet_v2_100`), or a name with where to load it from: a folder holding
   * `model.json`, an http(s) URL, or a `tf.io.IOHandler`. By default weights are read from
   * `FEWSHOT_MODEL_DIR` or the package's `models/` (`npm run fetch-model`).
   */
  model?: ModelName | { name: ModelName; source?: ModelSource };
  /** A folder for the file store (default `FEWSHOT_STORE` or `~/.fewshot`), or any {@link ExampleStore}. */
  store?: string | ExampleStore;
  /** Head settings: `kind` (`prototype` | `knn`), `k`, `temperature`, `unknownThreshold`. */
  head?: HeadSettings;
  /** Limits on image bytes and pixels (defaults: 20 MiB, 50 MP). */
  limits?: ImageLimits;
}

const embedders = new Map<string, Promise<Embedder>>();

/**
 * Loads (once per model, source and limits, shared by all users in the process) a MobileNet embedder on
 * the WASM backend.
 */
export async function loadNodeEmbedder(model: NodeClassifierOptions['model'] = DEFAULT_MODEL, limits?: ImageLimits): Promise<Embedder> {
  const name = typeof model === 'string' ? model : model.name;
  if (!isModelName(name)) {
    throw new FewshotError('INVALID_ARGUMENT', `Unknown model ${JSON.stringify(name)}: use mobilenet_v2_100 or mobilenet_v1_025.`);
  }
  const given = typeof model === 'string' ? undefined : model.source;
  const source: ModelSource = given === undefined ? modelFolder(name) : given;
  const cacheable = typeof source === 'string';
  const key = `${name}\n${String(source)}\n${JSON.stringify(limits ?? null)}`;
  const cached = cacheable ? embedders.get(key) : undefined;
  if (cached) return cached;
  const loading = (async () => {
    await useWasmBackend();
    const handler = typeof source === 'string' && !/^https?:\/\//.test(source) ? fileModelSource(source) : source;
    return loadEmbedder({ model: name, source: handler, ...(limits ? { limits } : {}) });
  })();
  if (cacheable) {
    embedders.set(key, loading);
    loading.catch(() => embedders.delete(key)); // a failed load is retried next time
  }
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
  const embedder = await loadNodeEmbedder(options.model, options.limits);
  const store = typeof options.store === 'object' ? options.store : new FileStore(options.store);
  return FewShotClassifier.open({ userId: options.userId, embedder, store, ...(options.head ? { head: options.head } : {}) });
}
