import * as tf from '@tensorflow/tfjs-core';
import { loadEmbedder, type Embedder } from '../src/embedder.js';
import { FewshotError } from '../src/errors.js';
import { httpModelSource } from '../src/model-source.js';
import { DEFAULT_MODEL, isModelName, MODELS, type ModelName } from '../src/models.js';
import type { ImageLimits } from '../src/pixels.js';
import type { Env } from './env.js';
import { startWasmBackend } from './tfjs-wasm.js';

/**
 * Images a worker accepts. A Worker has 128 MB: 12 MP decode to 36 MB of RGB plus the decoder's own
 * buffers, which leaves room for the model (14 MB for v2) and tfjs.
 */
export const WORKER_IMAGE_LIMITS: ImageLimits = { maxBytes: 8 * 1024 * 1024, maxPixels: 12_000_000 };

// Asset URLs only need a well-formed origin: the MODELS binding serves them, nothing goes to the network.
const ASSET_ORIGIN = 'https://models.invalid';

let loading: { model: ModelName; embedder: Promise<Embedder> } | undefined;

/** The model this deployment runs (`MODEL` var). */
export function configuredModel(env: Env): ModelName {
  const name = env.MODEL ?? DEFAULT_MODEL;
  if (!isModelName(name)) {
    throw new FewshotError('MODEL_NOT_FOUND', `MODEL is ${JSON.stringify(name)}; use one of ${Object.keys(MODELS).join(', ')}.`);
  }
  return name;
}

/**
 * The embedder, loaded once per isolate and shared by its requests: the backend first, then the weights
 * from the MODELS assets (`models/<folder>/model.json` and its shards, or the `.tflite`, as `npm run fetch-model`
 * lays them out).
 * A failed load is forgotten, so the next request retries.
 */
export function getEmbedder(env: Env): Promise<Embedder> {
  const model = configuredModel(env);
  if (loading?.model !== model) {
    const embedder = startWasmBackend().then(() =>
      loadEmbedder({
        model,
        limits: WORKER_IMAGE_LIMITS,
        source: httpModelSource(MODELS[model], `${ASSET_ORIGIN}/${MODELS[model].folder}/${MODELS[model].file}`, (input: RequestInfo | URL, init?: RequestInit) =>
          env.MODELS.fetch(input, init),
        ),
      }),
    );
    loading = { model, embedder };
    embedder.catch(() => {
      if (loading?.embedder === embedder) loading = undefined;
    });
  }
  return loading.embedder;
}

/**
 * The configured model as an {@link Embedder} whose weights load on first use: requests that bring their
 * own embedding (hybrid mode) or only read and delete examples never wait for the network to load.
 */
export function lazyEmbedder(env: Env): Embedder {
  const spec = MODELS[configuredModel(env)];
  return {
    spec,
    get backend() {
      return loading ? tf.getBackend() : 'not loaded';
    },
    embed: async (input, options) => (await getEmbedder(env)).embed(input, options),
    embedBatch: async (inputs, options) => (await getEmbedder(env)).embedBatch(inputs, options),
    dispose: () => undefined, // shared by the isolate's requests
  };
}
