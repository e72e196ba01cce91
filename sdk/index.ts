/**
 * fewshot-edge for browsers and mobile web: `createClassifier({ userId })` runs MobileNet on WebGPU, WASM or
 * cpu on the device, keeps each user's examples in IndexedDB, and caches the model for offline use.
 * The same core as Node and the edge worker: results, errors and the export format are identical.
 */
import { FewShotClassifier, type HeadSettings } from '../src/classifier.js';
import { loadEmbedder, type Embedder } from '../src/embedder.js';
import { FewshotError } from '../src/errors.js';
import { httpModelSource } from '../src/model-source.js';
import { DEFAULT_MODEL, isModelName, MODELS, type ModelName } from '../src/models.js';
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from '../src/pixels.js';
import type { ExampleStore } from '../src/store.js';
import { startBackend, type BackendChoice, type BackendName, type BackendReport } from './backend.js';
import { IndexedDbStore } from './idb-store.js';
import { toCoreInput, type BrowserImageInput } from './inputs.js';
import { cachedModelSource } from './model-cache.js';

export * from '../src/index.js';
export { startBackend, type BackendChoice, type BackendFailure, type BackendName, type BackendReport } from './backend.js';
export { IndexedDbStore } from './idb-store.js';
export { toCoreInput, type BrowserImageInput } from './inputs.js';
export { cachedModelSource } from './model-cache.js';
export { connectWorker, type WorkerClassifier } from './worker-client.js';

/** A user's classifier in the browser: the core classifier taking page images as well. */
export type BrowserClassifier = FewShotClassifier<BrowserImageInput>;

/** Options of {@link createClassifier}. Only `userId` is required. */
export interface BrowserClassifierOptions {
  /** Whose examples to use; each user has a separate IndexedDB database. */
  userId: string;
  /**
   * The model (default `mobilenet_v2_100`) and where its `model.json` (or `.tflite` file) is served. Default: the official
   * weights' URL (`MODELS[name].officialUrl`); self-host them for offline-first apps and strict CSPs.
   * `version` names your copy: when it changes, the offline cache is refreshed.
   */
  model?: ModelName | { name: ModelName; url?: string; version?: string };
  /** `auto` (default): WebGPU when there is an adapter, else WASM, else cpu. Explicit choices never fall back. */
  backend?: BackendChoice;
  /**
   * Where the tfjs `.wasm` files are served: a folder URL ending in `/` or a map of file names to URLs (a CDN,
   * your static folder). Default: beside the SDK's script; Vite and webpack 5 emit them there on their own.
   */
  wasmPaths?: string | Record<string, string>;
  /** Keep the model in IndexedDB after the first load so the app works offline (default true). */
  cacheModel?: boolean;
  /** Where examples live (default: IndexedDB, synchronised across tabs). */
  store?: ExampleStore;
  /** Called after another tab or worker changed this user's examples and the classifier reloaded them. */
  onChange?: () => void;
  head?: HeadSettings;
  /** Average each embedding with the mirror image's (default true). */
  flip?: boolean;
  limits?: ImageLimits;
}

const embedders = new Map<string, Promise<Embedder>>();

/**
 * Opens a user's few-shot classifier on this page (or in a Web Worker).
 *
 * ```ts
 * const clf = await createClassifier({ userId: 'alice', model: { name: 'mobilenet_v2_100', url: '/models/mobilenet_v2_100/model.json' } });
 * await clf.addExample('mug', videoElement);
 * const { label, confidence, unknown } = await clf.classify(canvas);
 * ```
 * @throws FewshotError `BACKEND_UNAVAILABLE`, `MODEL_NOT_FOUND`, `MODEL_MISMATCH`, `INVALID_ARGUMENT`.
 */
export async function createClassifier(options: BrowserClassifierOptions): Promise<BrowserClassifier> {
  if (!options || typeof options !== 'object') throw new FewshotError('INVALID_ARGUMENT', 'createClassifier needs an options object with a userId.');
  const { name, url, version } = modelOf(options.model);
  const backend = await startBackend({ ...(options.backend ? { backend: options.backend } : {}), ...(options.wasmPaths ? { wasmPaths: options.wasmPaths } : {}) });
  const cacheKey = `${name} ${url} ${version} ${options.cacheModel !== false}`;
  let core = embedders.get(cacheKey);
  if (!core) {
    // The query string (TF Hub's ?tfjs-format=file) is kept on every file fetched: shards, or the .tflite.
    const source = options.cacheModel === false ? url : cachedModelSource(httpModelSource(MODELS[name], url), name, version);
    core = loadEmbedder({ model: name, source });
    embedders.set(cacheKey, core);
    core.catch(() => embedders.delete(cacheKey));
  }
  const store = options.store ?? new IndexedDbStore();
  const classifier = await FewShotClassifier.open<BrowserImageInput>({
    userId: options.userId,
    embedder: browserEmbedder(await core, backend, options.limits ?? DEFAULT_IMAGE_LIMITS),
    store,
    ...(options.head ? { head: options.head } : {}),
    ...(options.flip !== undefined ? { flip: options.flip } : {}),
  });
  if (store instanceof IndexedDbStore) {
    store.subscribe(options.userId, () => {
      classifier.reload().then(options.onChange, (err) => console.warn(`fewshot-edge: reload after another tab's change failed: ${String(err)}`));
    });
  }
  return classifier;
}

function modelOf(model: BrowserClassifierOptions['model']): { name: ModelName; url: string; version: string } {
  const given = typeof model === 'string' ? { name: model } : (model ?? { name: DEFAULT_MODEL });
  if (!isModelName(given.name)) {
    throw new FewshotError('INVALID_ARGUMENT', `Unknown model ${JSON.stringify(given.name)}; use one of ${Object.keys(MODELS).join(', ')}.`);
  }
  const spec = MODELS[given.name];
  const url = 'url' in given && given.url ? given.url : spec.officialUrl + spec.officialQuery;
  const version = 'version' in given && given.version ? given.version : `${spec.version} ${url}`;
  return { name: given.name, url, version: String(version) };
}

/** The core embedder, taking page images: each is drawn and read as pixels first. */
function browserEmbedder(core: Embedder, backend: BackendReport, limits: ImageLimits): Embedder<BrowserImageInput> {
  return {
    spec: core.spec,
    get backend() {
      return core.backend as BackendName;
    },
    runtime: { threads: backend.threads, ...(backend.wasmBuild ? { wasmBuild: backend.wasmBuild } : {}), failedBackends: backend.failedBackends },
    embed: async (input, options) => core.embed(await toCoreInput(input, limits), options),
    embedBatch: async (inputs, options) => core.embedBatch(await Promise.all(inputs.map((i) => toCoreInput(i, limits))), options),
    dispose: () => core.dispose(),
  };
}
