import * as tf from '@tensorflow/tfjs-core';
import { FewshotError } from './errors.js';
import { fuseLayersModel } from './fused-layers.js';
import { httpModelSource, tfliteBytes } from './model-source.js';
import { INPUT_SIZE, MODELS, type ModelName, type ModelSpec } from './models.js';
import { DEFAULT_IMAGE_LIMITS, decodeImage, rawToRgb, type EncodedImage, type ImageLimits, type RawPixels, type RgbImage } from './pixels.js';

/**
 * Where weights come from: the URL of `model.json` (or of the `.tflite` file), or any `tf.io.IOHandler` (the
 * Node adapter reads folders; a `.tflite` travels as artifacts, see `tfliteArtifacts`).
 */
export type ModelSource = string | tf.io.IOHandler;

/**
 * Anything the core can embed: encoded JPEG/PNG bytes, raw pixels, or a `[height, width, 1|3|4]` tensor of
 * 0..255 values (the tensor stays the caller's to dispose). Platform adapters add their own kinds on top.
 */
export type ImageInput = EncodedImage | RawPixels | tf.Tensor3D;

/** Per-call embedding options. */
export interface EmbedOptions {
  /**
   * Also embed the mirror image and average the two embeddings (test-time augmentation). Worth about
   * 1 point of 1-shot accuracy (docs/ACCURACY.md) for about twice the embedding time (`npm run bench`).
   * Both images go through the network in one batch.
   */
  flip?: boolean;
}

/**
 * Turns images into embedding vectors with a frozen MobileNet. `Input` is what it accepts: the core's
 * {@link ImageInput}, or more for a platform adapter (the browser SDK adds elements, bitmaps and blobs).
 */
export interface Embedder<Input = ImageInput> {
  readonly spec: ModelSpec;
  /** The TF.js backend the model runs on (`wasm`, `webgpu`, `cpu`...). */
  readonly backend: string;
  /** How the platform runs that backend, when it says (the browser SDK: WASM threads, backends that failed). */
  readonly runtime?: BackendRuntime;
  /** One image to one embedding (not normalised: the head normalises). */
  embed(input: Input, options?: EmbedOptions): Promise<Float32Array>;
  /** Many images through the network in batches; same results as `embed`. */
  embedBatch(inputs: readonly Input[], options?: EmbedOptions): Promise<Float32Array[]>;
  /** Frees the weights. The embedder is unusable afterwards. */
  dispose(): void;
}

/** Platform details of the running backend, shown by `info()`. */
export interface BackendRuntime {
  /** Threads the WASM backend runs (1 when single-threaded, or on another backend). */
  threads: number;
  /** On WASM: the build that runs (`threaded-simd`, `simd` or `plain`). */
  wasmBuild?: string;
  /** Backends tried before the one running, and why each failed (`wasm-threads`: the threaded WASM build). */
  failedBackends: { backend: string; reason: string }[];
}

export interface EmbedderOptions {
  model: ModelName;
  source: ModelSource;
  limits?: ImageLimits;
}

/** Runs the network on a `[batch, 224, 224, 3]` float tensor of 0..255 values. */
type Network = {
  run(batch: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
  /** Embedding length when the weights declare it; otherwise it is checked on every embedding. */
  dim?: number;
};

async function loadNetwork(spec: ModelSpec, source: ModelSource): Promise<Network> {
  // Each format's loader is imported only when used: a v1 user never parses tfjs-layers, and start-up is faster.
  if (spec.format === 'tflite') return loadTflite(spec, typeof source === 'string' ? httpModelSource(spec, source) : source);
  if (spec.format === 'graph') {
    const [lo, hi] = spec.inputRange;
    const { load: loadMobileNet } = await import('@tensorflow-models/mobilenet');
    const mobilenet = await loadMobileNet({ version: 1, alpha: 0.25, modelUrl: source, inputRange: [lo, hi] });
    // infer() scales to inputRange and skips its resize when the first dimension is 224, which a
    // single pre-resized image ([224, 224, 3]) satisfies; a batch costs it one no-op resize.
    return {
      run: (batch) => mobilenet.infer(batch.shape[0] === 1 ? tf.squeeze(batch, [0]) : batch, true) as tf.Tensor2D,
      // The package's type hides its GraphModel, and it has no dispose of its own: free the weights through it.
      dispose: () => (mobilenet as unknown as { model?: { dispose(): void } }).model?.dispose(),
    };
  }
  const { loadLayersModel, model: functionalModel } = await import('@tensorflow/tfjs-layers');
  const full = await loadLayersModel(source);
  const [lo, hi] = spec.inputRange;
  const scale = (batch: tf.Tensor4D) => tf.add(tf.mul(batch, (hi - lo) / 255), lo) as tf.Tensor4D;
  // Batch norms folded into the convolutions: same embedding (cosine 1 - 1e-11), about 3x faster on WASM.
  const fused = fuseLayersModel(full, spec.embeddingNode);
  if (fused) {
    full.dispose();
    return { dim: fused.dim, run: (batch) => fused.run(scale(batch)), dispose: fused.dispose };
  }
  // Unknown layer types: run the model as it is. The official file ends in the 1000-way classifier; a
  // feature-only copy ends at the embedding already.
  const layers =
    full.outputs[0]?.sourceLayer.name === spec.embeddingNode
      ? full
      : functionalModel({ inputs: full.inputs, outputs: full.getLayer(spec.embeddingNode).output });
  return {
    dim: layers.outputs[0]?.shape[1] ?? undefined,
    run: (batch) => layers.predict(scale(batch)) as tf.Tensor2D,
    dispose: () => full.dispose(),
  };
}

async function loadTflite(spec: ModelSpec, source: tf.io.IOHandler): Promise<Network> {
  if (!source.load) throw new Error('the IOHandler cannot load');
  const bytes = tfliteBytes(await source.load());
  if (!bytes) throw new FewshotError('MODEL_MISMATCH', `${spec.name} is a .tflite model, but its source gave TF.js model files: point it at ${spec.file}.`);
  const { loadTfliteNetwork } = await import('./tflite/network.js');
  try {
    return loadTfliteNetwork(bytes, spec.inputRange);
  } catch (cause) {
    throw new FewshotError('MODEL_MISMATCH', `The file given for ${spec.name} is not its model: ${String(cause)}`, { cause });
  }
}

/**
 * Loads a MobileNet and returns an {@link Embedder}. The backend must already be set up by the platform
 * adapter (`tf.setBackend`); this reports whichever is active.
 * @throws FewshotError `MODEL_NOT_FOUND` when the weights cannot be loaded, `MODEL_MISMATCH` when they do
 *   not produce the named model's dimension.
 */
export async function loadEmbedder(options: EmbedderOptions): Promise<Embedder> {
  const spec = MODELS[options.model];
  const limits = options.limits ?? DEFAULT_IMAGE_LIMITS;
  let network: Network;
  try {
    network = await loadNetwork(spec, options.source);
  } catch (cause) {
    if (cause instanceof FewshotError) throw cause;
    const where = typeof options.source === 'string' ? options.source : 'the given IOHandler';
    throw new FewshotError('MODEL_NOT_FOUND', `Could not load ${spec.name} weights from ${where}: ${String(cause)}`, { cause });
  }
  if (network.dim !== undefined && network.dim !== spec.dim) {
    network.dispose();
    throw new FewshotError('MODEL_MISMATCH', `The weights loaded for ${spec.name} give ${network.dim}-d embeddings, expected ${spec.dim}: wrong model files?`);
  }
  return new MobileNetEmbedder(spec, network, limits);
}

class MobileNetEmbedder implements Embedder {
  constructor(
    readonly spec: ModelSpec,
    private readonly network: Network,
    private readonly limits: ImageLimits,
  ) {}

  get backend(): string {
    return tf.getBackend();
  }

  async embed(input: ImageInput, options?: EmbedOptions): Promise<Float32Array> {
    const [embedding] = await this.embedBatch([input], options);
    return embedding as Float32Array;
  }

  async embedBatch(inputs: readonly ImageInput[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const flip = options.flip === true;
    // Eight images per network call: with flips, four images and their mirrors.
    const batchSize = flip ? 4 : 8;
    for (let start = 0; start < inputs.length; start += batchSize) {
      // Decode before entering tidy so decode errors never leave tensors behind.
      const chunk = inputs.slice(start, start + batchSize).map((input) => toPixels(input, this.limits));
      const result = tf.tidy(() => {
        const batch = tf.stack(chunk.map(resized)) as tf.Tensor4D;
        if (!flip) return this.network.run(batch);
        const both = this.network.run(tf.concat([batch, tf.reverse(batch, 2)]));
        const n = chunk.length;
        return tf.div(tf.add(tf.slice(both, [0, 0], [n, -1]), tf.slice(both, [n, 0], [n, -1])), 2) as tf.Tensor2D;
      });
      const flat = (await result.data()) as Float32Array;
      result.dispose();
      if (flat.length !== chunk.length * this.spec.dim) {
        throw new FewshotError('MODEL_MISMATCH', `The ${this.spec.name} weights give ${flat.length / chunk.length}-d embeddings, expected ${this.spec.dim}: wrong model files?`);
      }
      for (let i = 0; i < chunk.length; i++) {
        out.push(checkEmbedding(flat.slice(i * this.spec.dim, (i + 1) * this.spec.dim)));
      }
    }
    return out;
  }

  dispose(): void {
    this.network.dispose();
  }
}

/**
 * Checks that a tensor is a usable image and returns its geometry.
 * @throws FewshotError `INVALID_IMAGE` unless it is a live `[height, width, 1|3|4]` tensor.
 */
export function checkTensorImage(input: tf.Tensor): { height: number; width: number; channels: 1 | 3 | 4 } {
  const [height, width, channels] = input.shape;
  if (input.rank !== 3 || !(channels === 1 || channels === 3 || channels === 4) || !height || !width) {
    throw new FewshotError('INVALID_IMAGE', `A tensor image must be [height, width, 1|3|4]; got [${input.shape.join(', ')}].`);
  }
  if (input.isDisposed) throw new FewshotError('INVALID_IMAGE', 'The tensor image has been disposed.');
  return { height, width, channels };
}

/** Encoded and raw inputs become RGB bytes; tensors are validated and passed through. */
function toPixels(input: ImageInput, limits: ImageLimits): RgbImage | tf.Tensor3D {
  if (input instanceof tf.Tensor) {
    checkTensorImage(input);
    return input;
  }
  if (input instanceof Uint8Array || input instanceof ArrayBuffer) return decodeImage(input, limits);
  if (input && typeof input === 'object' && 'data' in input && 'width' in input && 'height' in input) {
    return rawToRgb(input, limits);
  }
  throw new FewshotError(
    'INVALID_IMAGE',
    'Unsupported image input: pass JPEG/PNG bytes, raw pixels {data, width, height} or a [h, w, 3] tensor.',
  );
}

/** Called inside tidy: one image to a [224, 224, 3] float tensor of 0..255 values. */
function resized(pixels: RgbImage | tf.Tensor3D): tf.Tensor3D {
  let image: tf.Tensor3D =
    pixels instanceof tf.Tensor ? tf.cast(pixels, 'float32') : tf.tensor3d(pixels.data, [pixels.height, pixels.width, 3], 'float32');
  if (image.shape[2] === 1) image = tf.tile(image, [1, 1, 3]);
  if (image.shape[2] === 4) image = tf.slice(image, [0, 0, 0], [-1, -1, 3]);
  if (image.shape[0] === INPUT_SIZE && image.shape[1] === INPUT_SIZE) return image;
  // alignCorners=true, as @tensorflow-models/mobilenet does, so embeddings match the reference pipeline.
  return tf.image.resizeBilinear(image, [INPUT_SIZE, INPUT_SIZE], true);
}

function checkEmbedding(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const v of vector) norm += v * v;
  if (!Number.isFinite(norm) || norm === 0) {
    throw new FewshotError('INVALID_EMBEDDING', 'The model produced a NaN, infinite or all-zero embedding for this image.');
  }
  return vector;
}
