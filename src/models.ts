/** The MobileNet variants fewshot-edge knows how to load and embed with. */
export type ModelName = 'mobilenet_v2_100' | 'mobilenet_v1_025';

/** Everything the embedder and the weight downloader need to know about one model. */
export interface ModelSpec {
  readonly name: ModelName;
  /** Length of the embedding vector. */
  readonly dim: number;
  /** TF.js format of the weights: a layers model or a graph model. */
  readonly format: 'layers' | 'graph';
  /** Pixel range the network was trained on; 0..255 bytes are mapped linearly onto it. */
  readonly inputRange: readonly [number, number];
  /** Layer (layers model) or node (graph model) whose output is the embedding. */
  readonly embeddingNode: string;
  /** Folder name under a models directory (`fetch-model --out`, `FEWSHOT_MODEL_DIR`, or the default: node/model-dir.ts). */
  readonly folder: string;
  /** The official `model.json`; shards are fetched beside it. Query string appended to every file. */
  readonly officialUrl: string;
  readonly officialQuery: string;
  /**
   * Default softmax temperature over the head's (centred) cosine similarities, measured per model so
   * `confidence` is calibrated (`npm run calibrate`, docs/ACCURACY.md).
   */
  readonly temperature: number;
  /** Growth of the temperature with many classes of few examples (see `adaptiveTemperature`). */
  readonly temperatureGrowth: number;
  /** Temperature for the plain cosine head (`transform: 'plain'`). */
  readonly plainTemperature: number;
  /**
   * Similarity under which the default head answers "unknown", chosen so that at most 8% of queries of
   * known classes are rejected in every development setting from 1 to 5 shots and 2 to 50 classes.
   */
  readonly unknownThreshold: number | null;
  /** Bumped when weights or preprocessing change, so caches and stored embeddings can tell. */
  readonly version: number;
}

export const MODELS: Readonly<Record<ModelName, ModelSpec>> = {
  mobilenet_v2_100: {
    name: 'mobilenet_v2_100',
    dim: 1280,
    format: 'layers',
    inputRange: [-1, 1],
    embeddingNode: 'global_average_pooling2d_1',
    folder: 'mobilenet_v2_100_224_feature',
    officialUrl: 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v2_1.0_224/model.json',
    officialQuery: '',
    // npm run calibrate: worst ECE 0.029 (mean 0.012) over 33 settings, 2-50 classes, 1-5 shots; at 0.08
    // similarity, false "unknown" stays <= 8% in every setting.
    temperature: 0.045,
    temperatureGrowth: 0.008,
    plainTemperature: 0.025,
    unknownThreshold: 0.08,
    version: 1,
  },
  mobilenet_v1_025: {
    name: 'mobilenet_v1_025',
    dim: 256,
    format: 'graph',
    inputRange: [0, 1],
    embeddingNode: 'module_apply_default/MobilenetV1/Logits/global_pool',
    folder: 'mobilenet_v1_025_224_graph',
    officialUrl: 'https://tfhub.dev/google/imagenet/mobilenet_v1_025_224/classification/1/model.json',
    officialQuery: '?tfjs-format=file',
    // npm run calibrate: mean ECE 0.040 but worst 0.085 (this small model is sharper on photos than on
    // handwriting, and no one temperature fits both); threshold as for v2.
    temperature: 0.063,
    temperatureGrowth: 0.004,
    plainTemperature: 0.02,
    unknownThreshold: 0.05,
    version: 1,
  },
};

/** The accurate default. */
export const DEFAULT_MODEL: ModelName = 'mobilenet_v2_100';

/** Side of the square the networks take. */
export const INPUT_SIZE = 224;

export function isModelName(name: unknown): name is ModelName {
  return typeof name === 'string' && Object.hasOwn(MODELS, name);
}
